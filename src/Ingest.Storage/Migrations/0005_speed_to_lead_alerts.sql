-- Speed-to-lead alerts: one row per lead that went unanswered too long. The primary key makes each alert once, across
-- every worker; the row carries the delivery state so retries back off durably and survive a restart.
create table speed_to_lead_alerts (
    lead_id         uuid primary key references leads (lead_id),
    event_id        text collate "C" not null unique,
    created_at      timestamptz not null default now(),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    delivered_at    timestamptz,
    last_status     integer
);

create index speed_to_lead_alerts_pending on speed_to_lead_alerts (next_attempt_at) where delivered_at is null;
