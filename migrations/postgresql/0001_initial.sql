-- Sluice PostgreSQL schema (fleet mode), version 1. Never edit a migration once
-- shipped: add a new file. The tables mirror the SQLite schema of migrations/
-- (0001 to 0003) where they hold the same things; times the daemons write are
-- unix seconds (DOUBLE PRECISION), as there.

-- Stored answers, one per cache key, shared by every daemon of the fleet.
-- A hit rewrites only hit_count and last_used_at, neither indexed, and the
-- pages keep room for the new row version: PostgreSQL then updates in place
-- (a HOT update) without touching an index. Eviction sorts by last use when
-- the cache is over its cap, as the SQLite store does.
CREATE TABLE cache_entries (
    key               TEXT             NOT NULL PRIMARY KEY, -- hex SHA-256 cache key
    key_id            TEXT             NOT NULL,             -- client key id (never a secret)
    model             TEXT,
    route             TEXT             NOT NULL,
    status            INTEGER          NOT NULL,
    content_type      TEXT             NOT NULL,
    body              BYTEA            NOT NULL,
    body_bytes        BIGINT           NOT NULL,
    created_at        DOUBLE PRECISION NOT NULL,             -- unix seconds
    expires_at        DOUBLE PRECISION NOT NULL,
    last_used_at      DOUBLE PRECISION NOT NULL,
    hit_count         BIGINT           NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cost              DOUBLE PRECISION
) WITH (fillfactor = 85);

-- The expiry sweep.
CREATE INDEX cache_entries_expires_at ON cache_entries (expires_at);

-- One row holding running totals of cache_entries, kept by the triggers below,
-- so that eviction and `cache stats` never sum over the whole table.
CREATE TABLE cache_totals (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    entries    BIGINT  NOT NULL,
    body_bytes BIGINT  NOT NULL
);
INSERT INTO cache_totals (id, entries, body_bytes) VALUES (1, 0, 0);

-- Statement-level triggers: a batch of stores, a purge or an eviction updates
-- the totals row once, so daemons storing at the same time wait on it little.
CREATE FUNCTION cache_totals_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_totals
    SET entries = entries + (SELECT count(*) FROM inserted),
        body_bytes = body_bytes + (SELECT coalesce(sum(body_bytes), 0) FROM inserted)
    WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION cache_totals_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_totals
    SET entries = entries - (SELECT count(*) FROM deleted),
        body_bytes = body_bytes - (SELECT coalesce(sum(body_bytes), 0) FROM deleted)
    WHERE id = 1;
    RETURN NULL;
END
$$;

-- Hit recording changes no size: it leaves the totals row alone.
CREATE FUNCTION cache_totals_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    growth BIGINT := (SELECT coalesce(sum(body_bytes), 0) FROM updated_new)
                   - (SELECT coalesce(sum(body_bytes), 0) FROM updated_old);
BEGIN
    IF growth <> 0 THEN
        UPDATE cache_totals SET body_bytes = body_bytes + growth WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cache_entries_after_insert AFTER INSERT ON cache_entries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION cache_totals_after_insert();

CREATE TRIGGER cache_entries_after_delete AFTER DELETE ON cache_entries
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION cache_totals_after_delete();

CREATE TRIGGER cache_entries_after_update AFTER UPDATE ON cache_entries
    REFERENCING OLD TABLE AS updated_old NEW TABLE AS updated_new
    FOR EACH STATEMENT EXECUTE FUNCTION cache_totals_after_update();

-- One row per request (see UsageRecord), as in SQLite's usage table.
CREATE TABLE usage (
    id                      BIGSERIAL        NOT NULL PRIMARY KEY,
    timestamp               DOUBLE PRECISION NOT NULL, -- unix seconds, arrival time
    key_id                  TEXT             NOT NULL,
    model                   TEXT,
    route                   TEXT             NOT NULL,
    status                  INTEGER          NOT NULL,
    cache_outcome           TEXT             NOT NULL, -- hit, miss, bypass, coalesced, stale, none
    prompt_tokens           INTEGER,
    completion_tokens       INTEGER,
    cost                    DOUBLE PRECISION,          -- USD
    saved_total_tokens      INTEGER,
    saved_cost              DOUBLE PRECISION,
    latency_ms              DOUBLE PRECISION NOT NULL,
    total_tokens            INTEGER,
    saved_prompt_tokens     INTEGER,
    saved_completion_tokens INTEGER,
    streaming               BOOLEAN          NOT NULL,
    first_byte_latency_ms   DOUBLE PRECISION,
    upstream_latency_ms     DOUBLE PRECISION,
    request_bytes           BIGINT           NOT NULL,
    response_bytes          BIGINT           NOT NULL,
    error_code              TEXT,
    cached_tokens           INTEGER                    -- prompt tokens read from the provider's prompt cache
);

-- Time ranges and retention pruning.
CREATE INDEX usage_timestamp ON usage (timestamp);
-- `stats --key`, `stats --model`, and spend by key.
CREATE INDEX usage_key_id_timestamp ON usage (key_id, timestamp);
CREATE INDEX usage_model_timestamp ON usage (model, timestamp);

-- Token buckets shared by the fleet: one row per client key and bucket
-- ('requests', 'tokens'). The level is refilled by the time passed on the
-- DATABASE clock (clock_timestamp()), never a daemon's: the daemons' clocks
-- differ, and one of them jumping must not fill or drain anyone's bucket.
CREATE TABLE rate_limit_buckets (
    key_id     TEXT             NOT NULL,
    bucket     TEXT             NOT NULL,
    level      DOUBLE PRECISION NOT NULL, -- tokens as of updated_at; negative while in debt
    updated_at TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (key_id, bucket)
);

-- Budget spend in USD per client key and UTC day or month, added as requests
-- settle: every daemon sees the others' spend at once, where usage rows arrive
-- in batches. A point read per key and window.
CREATE TABLE spend (
    key_id       TEXT             NOT NULL,
    period       TEXT             NOT NULL CHECK (period IN ('day', 'month')),
    period_start DOUBLE PRECISION NOT NULL, -- unix seconds of 00:00 UTC that day, or on the 1st
    usd          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (key_id, period, period_start)
);
