"""Every table the nightly snapshot publishes. A new mart is published by adding its name here
(and its contract in data_contracts/outputs/); the asset key equals the warehouse table name."""

PUBLISHED_TABLES: list[str] = [
    "data_quality",
    "customer_rfm",
    "segment_migration",
    "customer_lifecycle",
    "customer_propensity",
    "next_best_offer",
    "preapproved_offers",
    "event_invitations",
    "customer_360",
    "large_value_reports",
    "risk_alerts",
    "customer_risk",
    "model_monitoring",
    "crm_tasks",
    "rm_scorecard",
    "customer_loyalty",
]
