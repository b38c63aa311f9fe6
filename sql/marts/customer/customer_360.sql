-- One wide row per business date in [$date_from, $date_to] and customer known on that date: what a CRM imports. No direct identifiers
-- (age as a band only). Later marts join in here with one import CTE and one left join each;
-- it is built after them (assets/customer_360.py).
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

customer_day as (
    select *
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

rfm as (
    select as_of_date, customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_cell,
           segment, previous_segment
    from customer_rfm
    where as_of_date between $date_from and $date_to
),

lifecycle as (
    select as_of_date, customer_id, aum, tier, stage, previous_stage, stage_since, recommended_action
    from customer_lifecycle
    where as_of_date between $date_from and $date_to
),

risk as (
    select as_of_date, customer_id, grade as risk_grade, score as risk_score
    from customer_risk
    where as_of_date between $date_from and $date_to
),

open_alerts as (
    select as_of_date, customer_id, count(*) as open_alert_count,
           count(*) filter (where severity = 'high') as open_high_alert_count
    from risk_alerts
    where as_of_date between $date_from and $date_to
    group by as_of_date, customer_id
),

offer as (
    select as_of_date, customer_id, product_code, product_family, probability
    from next_best_offer
    where as_of_date between $date_from and $date_to
),

top_propensity as (
    select as_of_date, customer_id, list(product_family order by rank_in_customer) as families, max(probability) as probability
    from customer_propensity
    where as_of_date between $date_from and $date_to and rank_in_customer <= $top_families
    group by as_of_date, customer_id
),

-- Feedback (rules.md): the customer's latest NPS answer within the look-back and its band, and
-- the complaints still open on the date (a resolution time after the date still counts as open).
-- A feedback's row on a date is its latest delivery among those whose feedback time is on or
-- before the date: a running arg_max over that day, holding until the next such day.
feedback_deliveries as (
    select feedback_id, customer_id, kind, score, status, feedback_ts, resolved_ts, feedback_ts::date as seen_day,
           {'b': business_date, 'l': _line} as delivery_order
    from stg_feedback
    where feedback_ts::date <= $date_to
),

feedback_versions as (
    select
        feedback_id,
        seen_day as valid_from,
        coalesce(lead(seen_day) over (partition by feedback_id order by seen_day) - 1, $date_to::date) as valid_to,
        arg_max({'customer_id': customer_id, 'kind': kind, 'score': score, 'status': status,
                 'feedback_ts': feedback_ts, 'resolved_ts': resolved_ts}, delivery_order)
            over (partition by feedback_id order by seen_day, delivery_order
                  rows between unbounded preceding and current row) as f
    from feedback_deliveries
    qualify row_number() over (partition by feedback_id, seen_day order by delivery_order desc) = 1
),

feedback as (
    select feedback_id, valid_from, valid_to, f.customer_id, f.kind, f.score, f.status, f.feedback_ts, f.resolved_ts
    from feedback_versions
    where valid_to >= $date_from
),

nps as (
    select d.as_of_date, f.customer_id, arg_max(f.score, f.feedback_ts)::bigint as nps_score
    from feedback f
    join business_dates d
      on d.as_of_date between f.valid_from and f.valid_to
     and f.feedback_ts::date > d.as_of_date - $nps_days::integer
    where f.kind = 'nps' and f.score is not null
    group by d.as_of_date, f.customer_id
),

open_complaints as (
    select d.as_of_date, f.customer_id, count(*) as open_complaint_count
    from feedback f
    join business_dates d on d.as_of_date between f.valid_from and f.valid_to
    where f.kind = 'complaint'
      and case when f.resolved_ts is not null then f.resolved_ts::date > d.as_of_date
               else coalesce(f.status, 'open') <> 'resolved' end
    group by d.as_of_date, f.customer_id
),

loyalty as (
    select as_of_date, customer_id, tier as loyalty_tier, points_balance as loyalty_points_balance
    from customer_loyalty
    where as_of_date between $date_from and $date_to
),

final as (
    select
        d.as_of_date,
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
    left join rfm on rfm.as_of_date = d.as_of_date and rfm.customer_id = d.customer_id
    left join lifecycle on lifecycle.as_of_date = d.as_of_date and lifecycle.customer_id = d.customer_id
    left join offer on offer.as_of_date = d.as_of_date and offer.customer_id = d.customer_id
    left join top_propensity tp on tp.as_of_date = d.as_of_date and tp.customer_id = d.customer_id
    left join risk on risk.as_of_date = d.as_of_date and risk.customer_id = d.customer_id
    left join open_alerts on open_alerts.as_of_date = d.as_of_date and open_alerts.customer_id = d.customer_id
    left join nps on nps.as_of_date = d.as_of_date and nps.customer_id = d.customer_id
    left join open_complaints on open_complaints.as_of_date = d.as_of_date and open_complaints.customer_id = d.customer_id
    left join loyalty on loyalty.as_of_date = d.as_of_date and loyalty.customer_id = d.customer_id
)

select * from final
