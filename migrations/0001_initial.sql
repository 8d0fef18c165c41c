-- Sluice schema, version 1. Never edit a migration once shipped: add a new file.

-- Stored answers, one per cache key.
CREATE TABLE cache_entries (
    key               TEXT    NOT NULL PRIMARY KEY, -- hex SHA-256 cache key
    key_id            TEXT    NOT NULL,             -- client key id (never a secret)
    model             TEXT,
    route             TEXT    NOT NULL,
    status            INTEGER NOT NULL,
    content_type      TEXT    NOT NULL,
    body              BLOB    NOT NULL,
    body_bytes        INTEGER NOT NULL,
    created_at        REAL    NOT NULL,             -- unix seconds
    expires_at        REAL    NOT NULL,
    last_used_at      REAL    NOT NULL,
    hit_count         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cost              REAL
);

CREATE INDEX cache_entries_expires_at ON cache_entries (expires_at);
-- Covers the LRU walk: oldest use first, with the size of each body.
CREATE INDEX cache_entries_lru ON cache_entries (last_used_at, body_bytes);
CREATE INDEX cache_entries_model ON cache_entries (model);

-- One row holding running totals of cache_entries, kept by triggers, so that
-- eviction and `cache stats` never sum over the whole table.
CREATE TABLE cache_totals (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    entries    INTEGER NOT NULL,
    body_bytes INTEGER NOT NULL
);
INSERT INTO cache_totals (id, entries, body_bytes) VALUES (1, 0, 0);

CREATE TRIGGER cache_entries_after_insert AFTER INSERT ON cache_entries
BEGIN
    UPDATE cache_totals SET entries = entries + 1, body_bytes = body_bytes + NEW.body_bytes WHERE id = 1;
END;

CREATE TRIGGER cache_entries_after_delete AFTER DELETE ON cache_entries
BEGIN
    UPDATE cache_totals SET entries = entries - 1, body_bytes = body_bytes - OLD.body_bytes WHERE id = 1;
END;

CREATE TRIGGER cache_entries_after_update_size AFTER UPDATE OF body_bytes ON cache_entries
BEGIN
    UPDATE cache_totals SET body_bytes = body_bytes - OLD.body_bytes + NEW.body_bytes WHERE id = 1;
END;

-- One row per request (see UsageRecord). The columns `stats` reads come first:
-- SQLite decodes a record only up to the last column a query asks for.
CREATE TABLE usage (
    id                      INTEGER NOT NULL PRIMARY KEY,
    timestamp               REAL    NOT NULL,       -- unix seconds, arrival time
    key_id                  TEXT    NOT NULL,
    model                   TEXT,
    route                   TEXT    NOT NULL,
    status                  INTEGER NOT NULL,
    cache_outcome           TEXT    NOT NULL,       -- hit, miss, bypass, coalesced, none
    prompt_tokens           INTEGER,
    completion_tokens       INTEGER,
    cost                    REAL,                   -- USD
    saved_total_tokens      INTEGER,
    saved_cost              REAL,
    latency_ms              REAL    NOT NULL,
    total_tokens            INTEGER,
    saved_prompt_tokens     INTEGER,
    saved_completion_tokens INTEGER,
    streaming               INTEGER NOT NULL,       -- 0 or 1
    first_byte_latency_ms   REAL,
    upstream_latency_ms     REAL,
    request_bytes           INTEGER NOT NULL,
    response_bytes          INTEGER NOT NULL,
    error_code              TEXT
);

-- Time ranges and retention pruning.
CREATE INDEX usage_timestamp ON usage (timestamp);
-- `stats --key` and `stats --model`.
CREATE INDEX usage_key_id_timestamp ON usage (key_id, timestamp);
CREATE INDEX usage_model_timestamp ON usage (model, timestamp);
