-- One wide row per customer known on $as_of_date: what a CRM imports. No direct identifiers
-- (age as a band only). Later marts join in here with one import CTE and one left join each;
-- it is built after them (assets/customer_360.py).
with

customer_day as (
    select *
    from int_customer_day
    where as_of_date = $as_of_date
),

rfm as (
    select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_cell,
           segment, previous_segment
    from customer_rfm
    where as_of_date = $as_of_date
),

lifecycle as (
    select customer_id, aum, tier, stage, previous_stage, stage_since, recommended_action
    from customer_lifecycle
    where as_of_date = $as_of_date
),

risk as (
    select customer_id, grade as risk_grade, score as risk_score
    from customer_risk
    where as_of_date = $as_of_date
),

open_alerts as (
    select customer_id, count(*) as open_alert_count,
           count(*) filter (where severity = 'high') as open_high_alert_count
    from risk_alerts
    where as_of_date = $as_of_date
    group by customer_id
),

offer as (
    select customer_id, product_code, product_family, probability
    from next_best_offer
    where as_of_date = $as_of_date
),

top_propensity as (
    select customer_id, list(product_family order by rank_in_customer) as families, max(probability) as probability
    from customer_propensity
    where as_of_date = $as_of_date and rank_in_customer <= $top_families
    group by customer_id
),

-- Feedback (rules.md): the customer's latest NPS answer within the look-back and its band, and
-- the complaints still open on the date (a resolution time after the date still counts as open).
feedback as (
    select customer_id, kind, score, status, feedback_ts, resolved_ts
    from stg_feedback
    where feedback_ts::date <= $as_of_date
    qualify row_number() over (partition by feedback_id order by business_date desc, _line desc) = 1
),

nps as (
    select customer_id, arg_max(score, feedback_ts)::bigint as nps_score
    from feedback
    where kind = 'nps' and score is not null and feedback_ts::date > $as_of_date - $nps_days::integer
    group by customer_id
),

open_complaints as (
    select customer_id, count(*) as open_complaint_count
    from feedback
    where kind = 'complaint'
      and case when resolved_ts is not null then resolved_ts::date > $as_of_date
               else coalesce(status, 'open') <> 'resolved' end
    group by customer_id
),

loyalty as (
    select customer_id, tier as loyalty_tier, points_balance as loyalty_points_balance
    from customer_loyalty
    where as_of_date = $as_of_date
),

final as (
    select
        $as_of_date as as_of_date,
        d.customer_id,
        d.customer_type,
        d.status,
        d.age_band,
        d.gender,
        d.city,
        d.branch_id,
        d.rm_id,
        d.risk_tolerance,
        d.marketing_consent,
        d.onboard_date,
        d.tenure_days,
        rfm.segment,
        rfm.previous_segment,
        rfm.rfm_cell,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        lifecycle.stage,
        lifecycle.previous_stage,
        lifecycle.stage_since,
        lifecycle.tier,
        lifecycle.aum,
        lifecycle.recommended_action,
        d.accounts_open,
        d.held_families,
        d.current_account_accounts,
        d.savings_accounts,
        d.time_deposit_accounts,
        d.credit_card_accounts,
        d.consumer_loan_accounts,
        d.mortgage_accounts,
        d.business_loan_accounts,
        d.wealth_management_accounts,
        d.fund_accounts,
        d.insurance_accounts,
        d.private_banking_accounts,
        offer.product_code as next_best_offer,
        offer.product_family as next_best_offer_family,
        offer.probability as next_best_offer_probability,
        coalesce(tp.families, [])::varchar[] as top_propensity_families,
        tp.probability as top_propensity,
        risk.risk_grade,
        risk.risk_score,
        coalesce(open_alerts.open_alert_count, 0) as open_alert_count,
        coalesce(open_alerts.open_high_alert_count, 0) as open_high_alert_count,
        nps.nps_score,
        case when nps.nps_score >= $promoter_min then 'promoter'
             when nps.nps_score <= $detractor_max then 'detractor'
             when nps.nps_score is not null then 'passive' end as nps_category,
        coalesce(open_complaints.open_complaint_count, 0) as open_complaint_count,
        loyalty.loyalty_tier,
        loyalty.loyalty_points_balance
    from customer_day d
    left join rfm using (customer_id)
    left join lifecycle using (customer_id)
    left join offer using (customer_id)
    left join top_propensity tp using (customer_id)
    left join risk using (customer_id)
    left join open_alerts using (customer_id)
    left join nps using (customer_id)
    left join open_complaints using (customer_id)
    left join loyalty using (customer_id)
)

select * from final
