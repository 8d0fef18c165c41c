#!/usr/bin/env bash
# `sluice stats` speed: one million realistic usage rows over 30 days, then
# `stats --since 30d` grouped by model, day and key with the release binary.
# Prints the median wall time of 3 runs per query and writes a markdown report.
# Target: each query under 1 s.
#
# usage: bench/stats.sh [--binary PATH] [--rows N] [--runs N] [--output FILE] [--keep]
#   --binary PATH   the sluice to measure (also SLUICE_BIN; default
#                   .build-release/release/sluice, built with
#                   `swift build -c release --scratch-path .build-release --product sluice`)
#   --rows N        usage rows to generate (default 1000000)
#   --runs N        runs per query; the median is reported (default 3)
#   --output FILE   the markdown report (default bench/results/stats.md)
#   --keep          keep the temp folder with the database afterwards
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

BINARY=${SLUICE_BIN:-$REPO_DIR/.build-release/release/sluice}
ROWS=1000000
RUNS=3
OUTPUT="$BENCH_DIR/results/stats.md"
KEEP=no
TARGET_SECONDS=1

usage() { sed -n '6,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BINARY=$2; shift 2 ;;
        --rows) ROWS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --output) OUTPUT=$2; shift 2 ;;
        --keep) KEEP=yes; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "stats.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

for tool in sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "stats.sh: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$BINARY" ] || { echo "stats.sh: no sluice binary at $BINARY (build release first, or pass --binary)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sluice-stats-bench.XXXXXX)
cleanup() { [ "$KEEP" = yes ] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
DB="$WORK/usage.db"

# The schema comes from the binary itself, so the benchmark reads what the daemon writes.
"$BINARY" migrate --db "$DB" >/dev/null

# Rows in time order (as the daemon writes them), spread evenly over the last
# 30 days minus a minute, so `--since 30d` covers them all. Mix: 8 models,
# 6 keys, 3 routes; 30% hits, 2% coalesced, 10% streams (bypass), 3% refused
# before the cache (429 and 400), 1% upstream errors.
generate_started=$(date +%s.%N)
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE
    n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS - 1),
    base AS (
        SELECT i,
               (i * 2654435761) % 1000 AS r,           -- outcome draw, 0..999
               (i * 40503 + 7) % 97 AS m,               -- model draw
               (i * 69069 + 3) % 89 AS k,               -- key draw
               abs(random()) % 1000 AS noise
        FROM n
    ),
    shaped AS (
        SELECT i, r, noise,
               CAST(strftime('%s', 'now') AS REAL) - 60 - 30 * 86400.0 * ($ROWS - 1 - i) / $ROWS AS ts,
               CASE WHEN m < 30 THEN 'openai/gpt-4o-mini' WHEN m < 45 THEN 'openai/gpt-4o'
                    WHEN m < 60 THEN 'anthropic/claude-sonnet-4' WHEN m < 70 THEN 'anthropic/claude-haiku-4'
                    WHEN m < 78 THEN 'google/gemini-2.5-flash' WHEN m < 85 THEN 'xai/grok-4'
                    WHEN m < 92 THEN 'openai/text-embedding-3-small' ELSE 'mistral/mistral-large' END AS model,
               CASE WHEN k < 40 THEN 'web' WHEN k < 60 THEN 'batch' WHEN k < 72 THEN '3f9a1c0b7d2e'
                    WHEN k < 80 THEN 'a41b09e3c5f7' WHEN k < 86 THEN 'ops' ELSE '77c0de12ab34' END AS key_id,
               CASE WHEN r < 20 THEN 429 WHEN r < 30 THEN 400 WHEN r < 40 THEN 500 ELSE 200 END AS status,
               CASE WHEN r < 30 THEN 'none' WHEN r < 40 THEN 'miss' WHEN r < 340 THEN 'hit'
                    WHEN r < 360 THEN 'coalesced' WHEN r < 460 THEN 'bypass' ELSE 'miss' END AS outcome
        FROM base
    )
INSERT INTO usage (
    timestamp, key_id, model, route, status, cache_outcome,
    prompt_tokens, completion_tokens, cost, saved_total_tokens, saved_cost, latency_ms,
    total_tokens, saved_prompt_tokens, saved_completion_tokens, streaming,
    first_byte_latency_ms, upstream_latency_ms, request_bytes, response_bytes, error_code)
SELECT ts, key_id, model,
       CASE WHEN model LIKE '%embedding%' THEN '/v1/embeddings' WHEN r % 50 = 49 THEN '/v1/models' ELSE '/v1/chat/completions' END,
       status, outcome,
       CASE WHEN outcome IN ('miss', 'bypass') AND status = 200 THEN 200 + noise * 3 END,
       CASE WHEN outcome IN ('miss', 'bypass') AND status = 200 THEN 50 + noise END,
       CASE WHEN outcome IN ('miss', 'bypass') AND status = 200 THEN (200 + noise * 3) * 0.00000015 + (50 + noise) * 0.0000006 END,
       CASE WHEN outcome IN ('hit', 'coalesced') THEN 250 + noise * 4 END,
       CASE WHEN outcome IN ('hit', 'coalesced') THEN (200 + noise * 3) * 0.00000015 + (50 + noise) * 0.0000006 END,
       CASE WHEN outcome IN ('hit', 'none') THEN 0.2 + noise / 500.0 ELSE 300 + noise * 2.5 END,
       CASE WHEN outcome IN ('miss', 'bypass') AND status = 200 THEN 250 + noise * 4 END,
       CASE WHEN outcome IN ('hit', 'coalesced') THEN 200 + noise * 3 END,
       CASE WHEN outcome IN ('hit', 'coalesced') THEN 50 + noise END,
       outcome = 'bypass',
       CASE WHEN outcome IN ('hit', 'none') THEN 0.15 + noise / 600.0 ELSE 120 + noise END,
       CASE WHEN outcome IN ('miss', 'bypass') THEN 290 + noise * 2.4 END,
       300 + noise * 2,
       CASE WHEN status = 200 THEN 900 + noise * 3 ELSE 180 END,
       CASE status WHEN 429 THEN 'rate_limit_exceeded' WHEN 400 THEN 'invalid_json' END
FROM shaped;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
ANALYZE;
SQL
generate_seconds=$(python3 -c "import time; print(f'{time.time() - $generate_started:.1f}')")
row_count=$(sqlite3 "$DB" "SELECT count(*) FROM usage")
db_size=$(du -h "$DB" | cut -f1)
echo "generated $row_count rows in ${generate_seconds}s ($db_size)"

# Median wall time of $RUNS runs of `sluice stats $*`, in seconds, then the
# fastest and slowest run and the median CPU time (user + system, all threads).
measure() {
    python3 - "$RUNS" "$BINARY" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, command = int(sys.argv[1]), sys.argv[2:]
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    walls.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.decode().strip()}")
print(f"{statistics.median(walls):.3f} {min(walls):.3f} {max(walls):.3f} {statistics.median(cpus):.3f}")
PY
}

QUERIES=("--by model" "--by day" "--by key")
declare -a RESULTS
over=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for query in "${QUERIES[@]}"; do
    # shellcheck disable=SC2086 # the query is split into flags on purpose
    read -r median fastest slowest cpu < <(measure stats --db "$DB" --since 30d $query)
    verdict=$(python3 -c "print('ok' if $median < $TARGET_SECONDS else 'OVER')")
    [ "$verdict" = ok ] || over=1
    printf 'stats --since 30d %-10s median %ss (min %s, max %s, cpu %ss) %s\n' "$query" "$median" "$fastest" "$slowest" "$cpu" "$verdict"
    RESULTS+=("| \`sluice stats --since 30d $query\` | $median | $fastest | $slowest | $cpu | $verdict |")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# shellcheck disable=SC2086
sample=$("$BINARY" stats --db "$DB" --since 30d --by model)

mkdir -p "$(dirname "$OUTPUT")"
{
    echo "# \`sluice stats\` on one million usage rows"
    echo
    echo "Generated by \`bench/stats.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores,"
    echo "$(sqlite3 --version | cut -d' ' -f1) (sqlite3 CLI; the binary links the system libsqlite3)."
    echo
    echo "- Database: $row_count rows over 30 days, in time order, $db_size on disk,"
    echo "  generated in ${generate_seconds}s with one recursive CTE (8 models, 6 keys, 3 routes;"
    echo "  30% hits, 2% coalesced, 10% streams, 3% refused before the cache, 1% upstream errors)."
    echo "- Binary: \`${BINARY#"$REPO_DIR"/}\` (release)."
    echo "- Wall time of the whole command (process start to exit), $RUNS runs each, page cache warm;"
    echo "  CPU is user + system time of all its threads (a large wide report scans one rowid"
    echo "  range per core). Load average before and after the runs: $load_before / $load_after"
    echo "  (other work on the machine stretches wall times; CPU time is the steadier figure)."
    echo "- Target: under $TARGET_SECONDS s."
    echo
    echo "| command | median s | min s | max s | median CPU s | target |"
    echo "|---|---:|---:|---:|---:|---|"
    printf '%s\n' "${RESULTS[@]}"
    echo
    echo "The \`--by model\` report:"
    echo
    echo '```'
    echo "$sample"
    echo '```'
} >"$OUTPUT"
echo "wrote ${OUTPUT#"$REPO_DIR"/}"
exit $over
