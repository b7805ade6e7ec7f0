-- Level 2: egress policy, quotas, usage accounting and the audit trail.

-- Rules are evaluated by position (1 = first); the first enabled match decides.
-- Destinations and ports are JSON arrays of text ("10.0.0.0/8", "8000-8100");
-- an empty array means "any".
CREATE TABLE rules (
  id           INTEGER PRIMARY KEY,
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
CREATE INDEX rules_by_position ON rules (position);

-- Bandwidth quotas: one row per application (full executable path), plus at most
-- one global row (scope 'global', app ''). NULL = no limit of that kind.
CREATE TABLE quotas (
  scope          TEXT NOT NULL CHECK (scope IN ('app', 'global')),
  app            TEXT NOT NULL,
  rate_up        INTEGER CHECK (rate_up > 0),
  rate_down      INTEGER CHECK (rate_down > 0),
  burst_up       INTEGER CHECK (burst_up > 0),
  burst_down     INTEGER CHECK (burst_down > 0),
  volume_bytes   INTEGER CHECK (volume_bytes > 0),
  volume_period  TEXT CHECK (volume_period IN ('day', 'week', 'month')),
  on_exceed      TEXT CHECK (on_exceed IN ('block', 'throttle')),
  throttle_rate  INTEGER CHECK (throttle_rate > 0),
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (scope, app),
  CHECK ((volume_bytes IS NULL) = (volume_period IS NULL)),
  CHECK ((on_exceed = 'throttle') = (throttle_rate IS NOT NULL))
) STRICT;

-- Bytes and packets per application per UTC day, added to by the flusher.
CREATE TABLE usage_daily (
  app          TEXT NOT NULL,
  day          TEXT NOT NULL,            -- YYYY-MM-DD, UTC
  bytes_up     INTEGER NOT NULL DEFAULT 0,
  bytes_down   INTEGER NOT NULL DEFAULT 0,
  packets_up   INTEGER NOT NULL DEFAULT 0,
  packets_down INTEGER NOT NULL DEFAULT 0,
  dropped      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app, day)
) STRICT;
CREATE INDEX usage_by_day ON usage_daily (day);

-- Every change to policy, quotas or settings: who (as the OS identified the
-- caller), what, when. Written in the same transaction as the change itself.
CREATE TABLE audit (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  uid         INTEGER,
  account     TEXT NOT NULL DEFAULT '',
  pid         INTEGER,
  executable  TEXT NOT NULL DEFAULT '',
  action      TEXT NOT NULL,             -- e.g. 'rule.add'
  detail      TEXT NOT NULL DEFAULT '{}' -- JSON
) STRICT;

-- How long providers wait for a verdict before fail_mode applies.
INSERT INTO settings (key, value) VALUES ('provider_timeout_ms', '250');
