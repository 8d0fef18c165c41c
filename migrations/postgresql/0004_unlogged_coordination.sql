-- Sluice PostgreSQL schema, version 4: the coordination tables skip the WAL.
--
-- Every request takes from rate_limit_buckets and every miss claims a row of
-- cache_flights: with the write-ahead log each of those commits waits for a
-- disk flush, which the benchmark showed to be most of a fleet miss's time.
-- Neither needs to survive a crash of PostgreSQL: an UNLOGGED table is emptied
-- by crash recovery, so buckets start full again (as after a restart of a
-- single daemon) and claims are gone (as if they had run out). Cache entries,
-- usage rows and spend stay logged. (UNLOGGED tables are not replicated to
-- standbys either; after a failover the buckets start full.)
ALTER TABLE rate_limit_buckets SET UNLOGGED;
ALTER TABLE cache_flights SET UNLOGGED;
