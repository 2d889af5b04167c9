-- Source detail and method (docs/governance.md, "Source detail and method"): the drill-down beneath a touch's channel
-- (search engine, network, referring domain, campaign, tracking number, event code) and how the touch entered
-- (web_form, visit, api, call_tracking, ad_form, import, crm), kept apart from its source. The worker writes both on
-- every touch, and on the lead's first, latest and lead-creation copies so the channel report still reads leads alone.
-- Nullable and without indexes: the lead's per-batch update stays a HOT update.
alter table touches
    add column if not exists source_detail text,
    add column if not exists method        text;

alter table leads
    add column if not exists first_source_detail   text,
    add column if not exists first_method          text,
    add column if not exists latest_source_detail  text,
    add column if not exists latest_method         text,
    add column if not exists created_source_detail text,
    add column if not exists created_method        text;

-- Touches stored before this migration: the method follows from the door and kind alone, exactly as
-- Ingest.Core.Governance.TouchMethods.Of decides it (a test holds the two together), so it is backfilled: one pass over
-- the touches, cheap per row. Their source_detail stays null: it needs the governance rules (aliases, referrer lists)
-- that only the services hold, and is left to the planned reclassification (issue 15, item 6), which recomputes the
-- governed values from the raw ones.
update touches set method = case
        when kind = 'visit' then 'visit'
        when kind = 'offline' then 'import'
        when door in ('form', 'browser') then 'web_form'
        when door = 'api' then 'api'
        when door = 'callrail' then case when kind = 'form' then 'web_form' else 'call_tracking' end
        when door = 'twilio' then 'call_tracking'
        when door in ('google_ads', 'meta') then 'ad_form'
        when door in ('import', 'imports') then 'import'
        when door in ('crm', 'hubspot') then 'crm'
    end
where method is null;

update leads l set first_method = t.method from touches t where t.event_id = l.first_event_id and l.first_method is null;
update leads l set latest_method = t.method from touches t where t.event_id = l.latest_event_id and l.latest_method is null;
update leads l set created_method = t.method from touches t where t.event_id = l.created_event_id and l.created_method is null;
