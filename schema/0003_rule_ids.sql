-- Level 3: a rule id is never handed out twice. Without AUTOINCREMENT SQLite gives
-- a new row max(id) + 1, so removing the last rule and adding one reused its id: the
-- audit trail then showed two rules under one id, and a retried `rule remove ID`
-- could delete the newer one. AUTOINCREMENT keeps the highest id ever used in
-- sqlite_sequence. SQLite cannot add it to an existing table, so the table is rebuilt
-- with the same columns and rows.
ALTER TABLE rules RENAME TO rules_level2;
CREATE TABLE rules (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  position     INTEGER NOT NULL,
  enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  comment      TEXT NOT NULL DEFAULT '',
  app          TEXT NOT NULL,
  user         TEXT,
  protocol     TEXT NOT NULL CHECK (protocol IN ('any', 'tcp', 'udp')),
  destinations TEXT NOT NULL DEFAULT '[]',
  ports        TEXT NOT NULL DEFAULT '[]',
  action       TEXT NOT NULL CHECK (action IN ('direct', 'relay', 'block')),
  rate_up      INTEGER CHECK (rate_up > 0),
  rate_down    INTEGER CHECK (rate_down > 0),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
) STRICT;
INSERT INTO rules (id, position, enabled, comment, app, user, protocol, destinations, ports, action, rate_up, rate_down,
                   created_at, updated_at)
  SELECT id, position, enabled, comment, app, user, protocol, destinations, ports, action, rate_up, rate_down,
         created_at, updated_at FROM rules_level2;
DROP TABLE rules_level2;
CREATE INDEX rules_by_position ON rules (position);

-- Ids used before this level by rules since removed are gone from the table but not
-- from the audit trail (every rule.* entry names its rule's id): start above them too.
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'rules', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'rules');
UPDATE sqlite_sequence SET seq = max(seq, (
    SELECT coalesce(max(CAST(json_extract(detail, '$.id') AS INTEGER)), 0) FROM audit
    WHERE action LIKE 'rule.%' AND json_valid(detail)))
  WHERE name = 'rules';
