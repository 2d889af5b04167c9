-- Outcomes: what became of each lead (lifecycle stages, deals, sales responses), from CRMs and sales tools.
-- Every outcome is kept as it arrived (append-only, idempotent on event_id); milestones, a deal's latest state and a
-- lead's owner are derived from the rows when read, so arrival order never changes a result and a merge only has to
-- move rows (Ingest.Storage.Leads.LeadMerger).
create table outcomes (
    event_id      text collate "C" primary key,
    -- the lead it concerns (a deal's primary lead); follows merges
    lead_id       uuid not null references leads (lead_id) deferrable initially deferred,
    type          text not null check (type in ('stage', 'deal', 'response')),
    occurred_at   timestamptz not null,
    received_at   timestamptz not null,
    stored_at     timestamptz not null default clock_timestamp(),
    door          text not null,
    source_system text,
    owner         text,
    stage         text,
    deal_id       text collate "C",
    amount        numeric(20, 4),
    currency      text,
    status        text,
    channel       text,
    responder     text,
    record        jsonb not null
);

-- A lead's history (timeline, milestones, first response, owner).
create index outcomes_lead on outcomes (lead_id, type, occurred_at);
-- A deal's history (latest state).
create index outcomes_deal on outcomes (deal_id, occurred_at) where deal_id is not null;

-- Every lead on a deal outcome (the buying group), the primary lead at position 0.
create table outcome_leads (
    event_id text collate "C" not null references outcomes (event_id) deferrable initially deferred,
    position integer not null,
    lead_id  uuid not null references leads (lead_id) deferrable initially deferred,
    primary key (event_id, position)
);

create index outcome_leads_lead on outcome_leads (lead_id);
