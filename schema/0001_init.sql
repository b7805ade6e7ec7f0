-- Level 1: the service's own settings. Every setting has a built-in default row so
-- a new state directory starts with a complete, working configuration.
CREATE TABLE settings (
  key        TEXT PRIMARY KEY NOT NULL,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- What happens to a flow no rule matches: 'direct', 'relay' or 'block'.
INSERT INTO settings (key, value) VALUES ('default_action', 'direct');
-- What providers do when the service cannot be reached in time: 'open' (go direct) or 'closed' (fail the call).
INSERT INTO settings (key, value) VALUES ('fail_mode', 'open');
-- Identifies this installation's database in logs and status output.
INSERT INTO settings (key, value) VALUES ('instance_id', lower(hex(randomblob(8))));
