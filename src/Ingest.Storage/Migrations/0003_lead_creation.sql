-- A history of visits alone is a visitor; the first conversion (a form, call or ad touch, or any touch with an email,
-- phone or external id) makes it a lead. The lead keeps that touch beside its first and latest touch, by reference as
-- they are (Ingest.Core.Touches.LeadCreation); reports count only leads that have one.
alter table leads
    add column created_event_id    text collate "C",
    add column created_occurred_at timestamptz,
    add column created_channel     text,
    add column created_ga4_channel text;

-- Set once per lead (and moved only earlier), so this index leaves the per-batch lead update a HOT update.
create index leads_created_occurred_at on leads (created_occurred_at) where merged_into is null and created_event_id is not null;

-- Leads stored before this migration: their earliest conversion.
update leads l set
    created_event_id = c.event_id, created_occurred_at = c.occurred_at, created_channel = c.channel, created_ga4_channel = c.ga4_channel
from (
    select distinct on (t.lead_id) t.lead_id, t.event_id, t.occurred_at, t.channel, t.ga4_channel
    from touches t
    where (t.kind <> 'visit' or coalesce(t.record->'identities'->>'email', t.record->'identities'->>'phone', t.record->'identities'->>'external_id') is not null)
    order by t.lead_id, t.occurred_at, t.event_id
) c
where l.lead_id = c.lead_id and l.merged_into is null;
