-- Sluice PostgreSQL schema, version 2: purges every daemon of a fleet hears of.
--
-- Each daemon keeps its hottest answers in memory in front of the database.
-- A purge (sluice cache purge, or a daemon asked over its socket) bumps this
-- counter in the statement that deletes; every daemon reads it every 100 ms and
-- drops its in-memory copies when it has moved, so no purged answer is served
-- for longer than that anywhere in the fleet.
CREATE TABLE cache_purges (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation BIGINT  NOT NULL
);
INSERT INTO cache_purges (id, generation) VALUES (1, 0);
