-- One row per trained model version and model kind (the scored model and its baselines), plus
-- one row per skipped family with its training positive count. Written by the training job.
create table if not exists model_metrics (
    as_of_date date not null,          -- training date: labels observed up to here
    trained_at timestamp not null,     -- UTC
    product_family varchar not null,
    model_name varchar not null,
    model_version varchar,             -- null for a skipped family
    status varchar not null,           -- trained | skipped
    approved boolean not null,
    model varchar,                     -- hgb_calibrated | logistic | popularity
    train_window_start date,
    train_window_end date,
    eval_window_start date,
    eval_window_end date,
    train_rows bigint,
    train_positives bigint,
    eval_rows bigint,
    eval_positives bigint,
    auc double,
    top_decile_lift double,
    brier double,
    calibration varchar,               -- json list of deciles: mean predicted vs observed rate
    note varchar
);
