-- Sluice PostgreSQL schema, version 3: identical requests in flight anywhere
-- in the fleet make one upstream call.
--
-- The daemon that claims a key's row asks upstream, stores the answer, then
-- deletes the row; a daemon that finds the row taken waits (bounded) for the
-- answer to appear in cache_entries instead of asking upstream too. A claim
-- ends at expires_at (unix seconds), so a daemon that died mid-call holds
-- nobody up for longer than that.
CREATE TABLE cache_flights (
    key        TEXT             NOT NULL PRIMARY KEY, -- hex SHA-256 cache key
    expires_at DOUBLE PRECISION NOT NULL
);
