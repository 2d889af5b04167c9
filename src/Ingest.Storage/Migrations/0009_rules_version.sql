-- The governance rules each touch was governed under (Ingest.Core.Governance.GovernanceRules.VersionStamp: the rules
-- file's version, "+", the first 12 hex digits of the SHA-256 of its normalized content). The worker writes it from the
-- record; reclassification (POST /v1/governance/reclassify) rewrites it with the governed values it recomputes.
-- Null: governed before versions were recorded. Nullable without a default, so adding it rewrites no row.
alter table touches add column if not exists rules_version text;
