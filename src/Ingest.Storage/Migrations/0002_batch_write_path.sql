-- Shapes the schema for the worker's batch writes; every change was measured (load-tests/RESULTS.md, "Worker store").

-- A lead keeps its first and latest touch by reference (event id, time, both channels for the reports); the full
-- summaries are read from the touch rows, which are append-only. A narrow lead row makes the one update per lead and
-- batch cheap.
alter table leads drop column first_touch, drop column latest_touch;

-- The latest touch changes with almost every batch: without an index on it, the lead update is a HOT update (no index
-- entries, measured 3-5x cheaper). Reports by latest touch scan the leads instead (0.2 s per 300,000 leads), and
-- monthly reports cover most leads anyway. Free space in each page keeps the new row versions on the same page.
drop index leads_latest_occurred_at;
alter table leads set (fillfactor = 85);

-- Checked at commit: one batch writes identities, leads and touches in whatever order is cheapest.
alter table touches alter constraint touches_lead_id_fkey deferrable initially deferred;
alter table lead_identities alter constraint lead_identities_lead_id_fkey deferrable initially deferred;

-- Timelines read a lead's touches by lead and time; time-range reports scan touches, which arrive roughly in time
-- order, so a BRIN index answers them at a fraction of a b-tree's cost per insert.
drop index touches_lead_timeline;
create index touches_lead_timeline on touches (lead_id, occurred_at);
drop index touches_occurred_at;
create index touches_occurred_at_brin on touches using brin (occurred_at);
