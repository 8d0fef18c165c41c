-- Sluice schema, version 2: hit bookkeeping moves out of cache_entries.
--
-- In version 1 every hit rewrote its cache_entries row (hit_count,
-- last_used_at) and the LRU index. With hits spread over a large cache that is
-- several random page writes per hit. Here those numbers live in cache_usage:
-- rows of a few dozen bytes, keyed by the entry's id, with no index to keep up.
-- Eviction sorts cache_usage by last use when the cache is over its cap, and
-- the expiry sweep scans it (it carries expires_at too), so cache_entries needs
-- no index besides its key: storing an answer writes two rows and no index.
--
-- cache_entries is now keyed by an integer derived from the cache key: its
-- first 8 bytes as a signed big-endian integer. A lookup is then one descent
-- of the table's B-tree instead of one of the key index plus one of the table.
-- The full key is still stored and compared on every read: two keys that share
-- their first 8 bytes make the later one replace the earlier (a miss, never a
-- wrong answer).

CREATE TABLE cache_entries_v2 (
    id                INTEGER NOT NULL PRIMARY KEY, -- the key's first 8 bytes, signed big-endian
    key               TEXT    NOT NULL,             -- hex SHA-256 cache key
    key_id            TEXT    NOT NULL,             -- client key id (never a secret)
    model             TEXT,
    route             TEXT    NOT NULL,
    status            INTEGER NOT NULL,
    content_type      TEXT    NOT NULL,
    body              BLOB    NOT NULL,
    body_bytes        INTEGER NOT NULL,
    created_at        REAL    NOT NULL,             -- unix seconds
    expires_at        REAL    NOT NULL,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cost              REAL
);

-- One row per cache entry: when it was last served and how often.
CREATE TABLE cache_usage (
    entry_id     INTEGER NOT NULL PRIMARY KEY,      -- cache_entries.id
    last_used_at REAL    NOT NULL,                  -- unix seconds
    hit_count    INTEGER NOT NULL DEFAULT 0,
    body_bytes   INTEGER NOT NULL,                  -- copies of the entry's, for
    expires_at   REAL    NOT NULL                   -- eviction and expiry
);

-- The id of each version 1 key: its first 16 hex digits as a signed integer.
INSERT OR IGNORE INTO cache_entries_v2 (
    id, key, key_id, model, route, status, content_type, body, body_bytes,
    created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost)
SELECT (WITH digits(i) AS (VALUES (1), (2), (3), (4), (5), (6), (7), (8),
                                  (9), (10), (11), (12), (13), (14), (15), (16))
        SELECT sum((instr('0123456789abcdef', substr(key, i, 1)) - 1) << (64 - 4 * i)) FROM digits),
       key, key_id, model, route, status, content_type, body, body_bytes,
       created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost
FROM cache_entries;

INSERT INTO cache_usage (entry_id, last_used_at, hit_count, body_bytes, expires_at)
SELECT v2.id, v1.last_used_at, v1.hit_count, v2.body_bytes, v2.expires_at
FROM cache_entries_v2 v2 JOIN cache_entries v1 ON v1.key = v2.key;

-- Drops the version 1 indexes and triggers with it (no trigger fires).
DROP TABLE cache_entries;
ALTER TABLE cache_entries_v2 RENAME TO cache_entries;
UPDATE cache_totals
SET entries = (SELECT count(*) FROM cache_entries),
    body_bytes = (SELECT ifnull(sum(body_bytes), 0) FROM cache_entries)
WHERE id = 1;

-- cache_totals and cache_usage follow every change of cache_entries, whoever
-- makes it (the daemon, `sluice cache purge`, a script).
CREATE TRIGGER cache_entries_after_insert AFTER INSERT ON cache_entries
BEGIN
    UPDATE cache_totals SET entries = entries + 1, body_bytes = body_bytes + NEW.body_bytes WHERE id = 1;
    INSERT OR REPLACE INTO cache_usage (entry_id, last_used_at, hit_count, body_bytes, expires_at)
    VALUES (NEW.id, NEW.created_at, 0, NEW.body_bytes, NEW.expires_at);
END;

CREATE TRIGGER cache_entries_after_delete AFTER DELETE ON cache_entries
BEGIN
    UPDATE cache_totals SET entries = entries - 1, body_bytes = body_bytes - OLD.body_bytes WHERE id = 1;
    DELETE FROM cache_usage WHERE entry_id = OLD.id;
END;

-- A replaced answer keeps its hit count and counts as just used.
CREATE TRIGGER cache_entries_after_update AFTER UPDATE OF body_bytes, created_at, expires_at ON cache_entries
BEGIN
    UPDATE cache_totals SET body_bytes = body_bytes - OLD.body_bytes + NEW.body_bytes WHERE id = 1;
    UPDATE cache_usage
    SET body_bytes = NEW.body_bytes, expires_at = NEW.expires_at,
        last_used_at = max(last_used_at, NEW.created_at)
    WHERE entry_id = NEW.id;
END;
