#!/usr/bin/env python3
"""Fills Sluice's cache table with N realistic answers, before the daemon starts.

Entry i answers the chat request whose body is bench/lua/common.lua's
chat_body("prefill i"), asked without a client key (key id `default`, cache
scope per key), so bench/lua/spread.lua's requests are hits. The cache key is
computed as Sluice computes it: SHA-256 over the route, a newline, the scope
("key:<key id>"), a newline and the canonical JSON of the body. The bodies
here are already canonical (sorted keys, no whitespace, plain ASCII).

The database must already have the schema (`sluice migrate --db PATH`).
Rows look like real ones: a chat completion of a few hundred bytes with a
distinct id and content, usage with cost, created within the last day,
expiring in a week, never hit yet.
"""

import argparse
import hashlib
import random
import sqlite3
import sys
import time

ROUTE = "/v1/chat/completions"
SCOPE = "key:default"
MODEL = "bench/model"


def request_body(index):
    return '{"messages":[{"content":"prefill %d","role":"user"}],"model":"%s"}' % (index, MODEL)


def cache_key(body):
    digest = hashlib.sha256()
    digest.update(ROUTE.encode() + b"\n" + SCOPE.encode() + b"\n" + body.encode())
    return digest.hexdigest()


ANSWER = (
    '{"id":"chatcmpl-prefill-%08d","object":"chat.completion","created":%d,"model":"' + MODEL + '",'
    '"choices":[{"index":0,"message":{"role":"assistant","content":"Answer %d: %s."},"finish_reason":"stop"}],'
    '"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"cost":%.9f,'
    '"prompt_tokens_details":{"cached_tokens":0}}}'
)


def entry_id(key):
    """Sluice's row id for a cache key: its first 8 bytes, signed big-endian."""
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


def answer(index, created, rng):
    """A chat completion as the gateway sends it (compact JSON, usage with cost)."""
    prompt_tokens = 9 + rng.randrange(40)
    completion_tokens = 20 + rng.randrange(200)
    words = " ".join(rng.choices(WORDS, k=12 + rng.randrange(30)))
    cost = (prompt_tokens * 0.15 + completion_tokens * 0.6) / 1e6
    body = ANSWER % (index, created, index, words, prompt_tokens, completion_tokens,
                     prompt_tokens + completion_tokens, cost)
    return body.encode(), prompt_tokens, completion_tokens, cost


WORDS = (
    "cache sidecar gateway token bucket latency stream answer request model "
    "prompt completion usage cost socket daemon limit window burst queue"
).split()


def rows(count, now, seed):
    rng = random.Random(seed)
    for index in range(1, count + 1):
        created = now - rng.uniform(0, 86400)
        body, prompt, completion, cost = answer(index, created, rng)
        key = cache_key(request_body(index))
        yield (
            entry_id(key), key, "default", MODEL, ROUTE, 200, "application/json",
            body, len(body), created, now + 7 * 86400,
            prompt, completion, prompt + completion, cost,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="Sluice database, already migrated")
    parser.add_argument("--entries", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--print-key", type=int, metavar="I", help="print entry I's key and request body, and exit")
    args = parser.parse_args()

    if args.print_key is not None:
        body = request_body(args.print_key)
        print(cache_key(body), body)
        return 0

    database = sqlite3.connect(args.db)
    database.execute("PRAGMA journal_mode = WAL")
    database.execute("PRAGMA synchronous = OFF")
    database.execute("PRAGMA cache_size = -1048576")  # 1 GiB: the B-trees stay in memory while filling
    # Inserting in id order appends to the table's B-tree instead of splitting pages at random.
    ordered = sorted(rows(args.entries, time.time(), args.seed), key=lambda row: row[0])
    with database:
        database.executemany(
            """INSERT INTO cache_entries (
                   id, key, key_id, model, route, status, content_type, body, body_bytes,
                   created_at, expires_at,
                   prompt_tokens, completion_tokens, total_tokens, cost)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            ordered,
        )
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = database.execute("SELECT entries, body_bytes FROM cache_totals").fetchone()
    database.close()
    print("prefill: %d entries, %d body bytes" % stored)
    return 0


if __name__ == "__main__":
    sys.exit(main())
