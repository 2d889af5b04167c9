-- Daily spend (POST /v1/costs), written straight by the collector: costs are few (a row per day and campaign), carry no
-- identity to resolve and must answer per row whether they were stored, so they do not travel through Kafka
-- (docs/decisions.md). One row per UTC day and governed source, medium and campaign ('' when a row names none);
-- a re-post replaces the amount and currency. channel and ga4_channel are what governance made of the row, like a touch's.
create table costs (
    day           date not null,
    source        text collate "C" not null,
    medium        text collate "C" not null,
    campaign      text collate "C" not null default '',
    amount        numeric(20, 6) not null check (amount >= 0),
    currency      text collate "C" not null check (currency ~ '^[A-Z]{3}$'),
    channel       text collate "C" not null,
    ga4_channel   text collate "C" not null,
    raw           jsonb not null,
    rules_version text not null,
    updated_at    timestamptz not null default now(),
    primary key (day, source, medium, campaign)
);
