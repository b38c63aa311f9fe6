"""Ingestion of landed extracts into the DuckDB warehouse: discover, read through a source
profile, type by the contract, quarantine what breaks it, reconcile, load."""
