-- Level 4: amounts are shown in the unit they were written in. `quota set --volume
-- 10GB` was shown back as "9.313 GiB": the bytes were kept, the unit was not. Each
-- rule and quota keeps a JSON object of the unit per amount ({"volume.bytes": "GB"});
-- '{}' (rows from before) shows them in binary units, as before.
ALTER TABLE rules ADD COLUMN units TEXT NOT NULL DEFAULT '{}';
ALTER TABLE quotas ADD COLUMN units TEXT NOT NULL DEFAULT '{}';

-- Settings are stored normalized from this level on ("BLOCK" as "block"); rows
-- written before as typed are normalized here once.
UPDATE settings SET value = lower(value) WHERE key IN ('default_action', 'fail_mode');
