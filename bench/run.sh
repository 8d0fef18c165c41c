#!/usr/bin/env bash
# Sluice benchmark: Sluice against its floor (the fake upstream itself) and
# against nginx as a caching proxy, all in one invocation so ratios are fair.
# See bench/README.md for what each run measures and how to read the table.
#
# usage: bench/run.sh [--binary PATH] [--duration SECONDS] [--warmup SECONDS]
#                     [--connections N] [--prefill N] [--output FILE] [--no-install]
#   --binary PATH     use this sluice binary (also SLUICE_BIN) instead of building
#                     release into .build-release
#   --duration S      seconds measured per run (default 10)
#   --warmup S        seconds of the same load before each run (default 3)
#   --connections N   connections of the throughput runs (default 32)
#   --prefill N       entries of the large cache (default 1000000)
#   --output FILE     where the markdown report goes (default bench/results/latest.md)
#   --no-install      do not apt-get install missing tools
#   --keep            keep the temp folder (configs, logs, databases) afterwards
#   --profile         after the runs, profile Sluice under hits and misses with
#                     perf (apt-get install linux-perf) and add the top symbols
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

BINARY=${SLUICE_BIN:-}
DURATION=10
WARMUP=3
CONNECTIONS=32
SLOW_CONNECTIONS=256
PREFILL=1000000
SMALL_CACHE=1000
STREAM_COUNT=200
OUTPUT="$BENCH_DIR/results/latest.md"
INSTALL=yes
KEEP=no
PROFILE=no

usage() { sed -n '5,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BINARY=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --prefill) PREFILL=$2; shift 2 ;;
        --output) OUTPUT=$2; shift 2 ;;
        --no-install) INSTALL=no; shift ;;
        --keep) KEEP=yes; shift ;;
        --profile) PROFILE=yes; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools

ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

missing_packages() {
    command -v nginx >/dev/null || echo nginx-light
    [ -f "$ECHO_MODULE" ] || echo libnginx-mod-http-echo
    command -v wrk >/dev/null || echo wrk
    command -v python3 >/dev/null || echo python3
    command -v curl >/dev/null || echo curl
}

install_tools() {
    local packages
    packages=$(missing_packages | tr '\n' ' ')
    [ -z "${packages// /}" ] && return 0
    [ "$INSTALL" = yes ] || fail "missing tools ($packages); run without --no-install or install them"
    log "installing $packages"
    # Keep Debian's nginx service from starting (and taking port 80) during the
    # install: invoke-rc.d asks policy-rc.d, and 101 means "not now".
    local policy=/usr/sbin/policy-rc.d added_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=yes
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    [ "$added_policy" = yes ] && rm -f "$policy"
    # Should a service manager have started it anyway, stop it.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        systemctl stop nginx && systemctl disable --quiet nginx || true
    fi
    [ -z "$(missing_packages)" ] || fail "still missing after install: $(missing_packages | tr '\n' ' ')"
}

build_sluice() {
    if [ -n "$BINARY" ]; then
        [ -x "$BINARY" ] || fail "no executable at $BINARY"
        return
    fi
    log "building release (swift build -c release --scratch-path .build-release; a clean build takes 13+ minutes)"
    (cd "$REPO_DIR" && swift build -c release --scratch-path .build-release --product sluice >&2)
    BINARY="$REPO_DIR/.build-release/release/sluice"
}

# ---------------------------------------------------------------- processes

TMP=""
CACHE_DIR=""
STARTED_PIDS=()

cleanup() {
    local pid
    stop_postgres
    for pid in "${STARTED_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    [ -n "$CACHE_DIR" ] && rm -rf "$CACHE_DIR"
    if [ "$KEEP" = yes ] && [ -n "$TMP" ]; then
        log "kept $TMP"
    elif [ -n "$TMP" ]; then
        rm -rf "$TMP"
    fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL NAME PID
    local attempt
    for attempt in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$3" 2>/dev/null || fail "$2 exited at start (see its log in $TMP)"
        sleep 0.1
    done
    fail "$2 did not answer $1 within 20 s"
}

render() { # TEMPLATE OUTPUT, then NAME=VALUE pairs
    local template=$1 output=$2 expression="" pair
    shift 2
    for pair in "$@"; do expression+="s#@${pair%%=*}@#${pair#*=}#g;"; done
    sed -e "$expression" "$template" >"$output"
}

start_nginx() { # NAME TEMPLATE PORT, then extra NAME=VALUE pairs; sets NGINX_PID
    local name=$1 template=$2 port=$3
    shift 3
    render "$template" "$TMP/$name.conf" "PORT=$port" "TMP=$TMP" "MODULE=$ECHO_MODULE" "USER=$(id -un)" "$@"
    nginx -q -t -c "$TMP/$name.conf" -p "$TMP/" 2>"$TMP/$name-check.log" \
        || fail "nginx rejects $TMP/$name.conf: $(cat "$TMP/$name-check.log")"
    nginx -c "$TMP/$name.conf" -p "$TMP/" 2>>"$TMP/$name-error.log" &
    NGINX_PID=$!
    STARTED_PIDS+=("$NGINX_PID")
    wait_http "http://127.0.0.1:$port/healthz" "$name nginx" "$NGINX_PID"
}

write_sluice_config() { # FILE DB SOCKET
    cat >"$1" <<EOF
# Limits far above any load here, so they never interfere.
tcp: 127.0.0.1:$SLUICE_PORT
unix: $3
db: $2
upstream: http://127.0.0.1:$UPSTREAM_PORT/v1
upstream_timeout: 30s
log_level: warning
cache:
  ttl: 24h
  scope: key
  max_size: 4GiB
limits:
  default: {requests_per_minute: 100000000, burst: 1000000, tokens_per_minute: 1000000000000}
EOF
}

start_sluice() { # NAME DB; serves on $SLUICE_PORT and $TMP/NAME.sock; sets SLUICE_PID
    write_sluice_config "$TMP/$1.yaml" "$2" "$TMP/$1.sock"
    VERCEL_AI_GATEWAY_API_KEY=bench "$BINARY" serve --config "$TMP/$1.yaml" >"$TMP/$1.log" 2>&1 &
    SLUICE_PID=$!
    STARTED_PIDS+=("$SLUICE_PID")
    wait_http "http://127.0.0.1:$SLUICE_PORT/healthz" "sluice ($1)" "$SLUICE_PID"
}

stop_sluice() {
    kill -TERM "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null || true
    local pid kept=()
    for pid in "${STARTED_PIDS[@]}"; do [ "$pid" = "$SLUICE_PID" ] || kept+=("$pid"); done
    STARTED_PIDS=("${kept[@]}")
}

# ---------------------------------------------------------------- measurement

CLOCK_TICKS=$(getconf CLK_TCK)
RECORDS=""

process_tree() { # PID: the process and its children (nginx: master and workers)
    echo "$1"
    pgrep -P "$1" || true
}

cpu_ticks() { # PID: user + system ticks of the process tree
    local total=0 pid fields
    for pid in $(process_tree "$1"); do
        fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $fields
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

rss_kib() { # PID: resident memory of the process tree
    local total=0 pid value
    for pid in $(process_tree "$1"); do
        value=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

fact() { # NAME VALUE: a single number for the report
    echo "FACT $1 $2" >>"$RECORDS"
}

# measure ID SERVER_PID LOADER ARGS...: runs LOADER for the warm-up, then
# measured, with the duration as its first argument; records its summary line
# with the server's CPU time over the measured run and its RSS after it.
measure() {
    local id=$1 pid=$2 before after output summary
    shift 2
    log "run $id"
    PHASE=warmup "$1" "$WARMUP" "${@:2}" >/dev/null 2>&1 || true
    before=$(cpu_ticks "$pid")
    output=$(PHASE=measure "$1" "$DURATION" "${@:2}" 2>&1) || true
    after=$(cpu_ticks "$pid")
    summary=$(grep '^BENCH ' <<<"$output" | tail -1) || true
    if [ -z "$summary" ]; then
        log "run $id produced no summary: $output"
        summary="BENCH requests=0 seconds=0 rps=0 p50_us=0 p99_us=0 errors=1 non2xx=0 timeouts=0"
    fi
    echo "RUN id=$id cpu_ms=$(( (after - before) * 1000 / CLOCK_TICKS )) rss_kib=$(rss_kib "$pid") ${summary#BENCH }" >>"$RECORDS"
}

# profile NAME SERVER_PID LOADER ARGS...: samples the server with perf while
# the load runs (not a measured run: perf costs CPU too), and keeps the
# hottest symbols in $TMP/profile-NAME.txt for the report.
profile() {
    local name=$1 pid=$2
    shift 2
    command -v perf >/dev/null || { log "no perf: skipping the profile of $name"; return 0; }
    log "profile $name"
    "$1" "$DURATION" "${@:2}" >/dev/null 2>&1 &
    local load=$!
    sleep 1
    if perf record -q -F 499 -g -p "$pid" -o "$TMP/perf-$name.data" -- sleep "$(( ${DURATION%.*} > 3 ? ${DURATION%.*} - 2 : 1 ))" \
        >/dev/null 2>"$TMP/perf-$name.log"; then
        {
            echo "by library:"
            perf report -q -i "$TMP/perf-$name.data" --no-children --sort dso --stdio -g none --percent-limit 1 \
                2>/dev/null | sed '/^$/d' | head -12
            echo "by symbol:"
            perf report -q -i "$TMP/perf-$name.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.7 \
                2>/dev/null | sed '/^$/d' | cut -c1-160 | head -30
        } >"$TMP/profile-$name.txt" || true
    else
        log "perf record failed for $name: $(head -1 "$TMP/perf-$name.log")"
    fi
    wait "$load" || true
}

# Loaders: LOADER SECONDS ARGS...; each prints one BENCH summary line.
wrk_load() { # SECONDS CONNECTIONS SCRIPT URL [wrk options]
    local seconds=$1 connections=$2 script=$3 url=$4 threads=2
    shift 4
    [ "$connections" -lt 2 ] && threads=1
    BENCH_NONCE="$RANDOM$RANDOM" wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 10s \
        -s "$BENCH_DIR/lua/$script" "$@" "$url"
}

sock_load() { # SECONDS CONNECTIONS --tcp HOST:PORT | --unix PATH
    local seconds=$1 connections=$2
    shift 2
    python3 "$BENCH_DIR/tools/sockload.py" "$@" --connections "$connections" \
        --duration "$seconds" --warmup 0 --body "$HIT_BODY"
}

first_chunk() { # SECONDS(ignored: a count of requests instead) HOST:PORT BODY [sockload options]
    local count=$STREAM_COUNT
    [ "${PHASE:-}" = warmup ] && count=20
    python3 "$BENCH_DIR/tools/sockload.py" --mode first-chunk --tcp "$2" --count "$count" \
        --body "$3" --header 'x-bench-upstream: stream' "${@:4}"
}

# Bodies exactly as bench/lua/common.lua builds them.
HIT_BODY='{"messages":[{"content":"Say hello to the benchmark.","role":"user"}],"model":"bench/model"}'
# A different stream each request (sockload --vary): every one is a miss.
STREAM_MISS_BODY='{"messages":[{"content":"Stream a greeting @N@.","role":"user"}],"model":"bench/model","stream":true}'
# The same stream each request: after the first, a replay of the stored stream.
STREAM_HIT_BODY='{"messages":[{"content":"Stream a greeting.","role":"user"}],"model":"bench/model","stream":true}'

expect_header() { # URL BODY HEADER VALUE WHAT [curl options]
    local url=$1 body=$2 header=$3 value=$4 what=$5 seen
    shift 5
    seen=$(curl -s -D - -o /dev/null -H 'content-type: application/json' -d "$body" "$@" "$url" \
        | tr -d '\r' | awk -v h="$header" 'tolower($1) == tolower(h) ":" {print $2}')
    [ "$seen" = "$value" ] || fail "$what: expected $header: $value, got '${seen:-nothing}'"
}

# ---------------------------------------------------------------- the runs

# The commit measured, taken before the build: others may commit while it runs.
source_commit() {
    local commit
    commit=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git -C "$REPO_DIR" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then
        commit="$commit (with uncommitted changes in Sources)"
    fi
    if [ -n "$BINARY" ]; then
        commit="$commit; binary given, built $(date -u -r "$BINARY" '+%Y-%m-%d %H:%M UTC')"
    fi
    echo "$commit"
}

main() {
    install_tools
    local commit
    commit=$(source_commit)
    build_sluice
    log "sluice binary: $BINARY"

    TMP=$(mktemp -d /tmp/sluice-bench.XXXXXX)
    CACHE_DIR=$(mktemp -d /dev/shm/sluice-bench-cache.XXXXXX)
    mkdir -p "$CACHE_DIR/tmp" "$CACHE_DIR/entries"
    RECORDS="$TMP/records"
    : >"$RECORDS"
    # Other work on the machine skews every row: the report shows how busy it was.
    fact load_average_at_start "$(cut -d' ' -f1 /proc/loadavg)"

    UPSTREAM_PORT=$(free_port)
    REFERENCE_PORT=$(free_port)
    SLUICE_PORT=$(free_port)
    local direct="http://127.0.0.1:$UPSTREAM_PORT" reference="http://127.0.0.1:$REFERENCE_PORT"
    local sluice="http://127.0.0.1:$SLUICE_PORT" chat=/v1/chat/completions

    # The caches for the hit-throughput comparison, filled before anything runs.
    log "filling a $SMALL_CACHE-entry and a $PREFILL-entry cache"
    "$BINARY" migrate --db "$TMP/small.db" >/dev/null
    "$BINARY" migrate --db "$TMP/large.db" >/dev/null
    python3 "$BENCH_DIR/tools/prefill.py" --db "$TMP/small.db" --entries "$SMALL_CACHE" >&2
    python3 "$BENCH_DIR/tools/prefill.py" --db "$TMP/large.db" --entries "$PREFILL" >&2

    start_nginx upstream "$BENCH_DIR/conf/upstream.conf.in" "$UPSTREAM_PORT"
    local upstream_pid=$NGINX_PID
    start_nginx reference "$BENCH_DIR/conf/reference.conf.in" "$REFERENCE_PORT" \
        "UPSTREAM_PORT=$UPSTREAM_PORT" "CACHE=$CACHE_DIR"
    local reference_pid=$NGINX_PID
    start_sluice main "$TMP/main.db"
    local sluice_pid=$SLUICE_PID

    sleep 2
    fact sluice_idle_rss_kib "$(rss_kib "$sluice_pid")"

    # Each server really caches, before anything is measured.
    expect_header "$sluice$chat" "$HIT_BODY" x-sluice-cache miss "sluice, first request"
    expect_header "$sluice$chat" "$HIT_BODY" x-sluice-cache hit "sluice, second request"
    expect_header "$reference$chat" "$HIT_BODY" x-cache MISS "nginx, first request"
    expect_header "$reference$chat" "$HIT_BODY" x-cache HIT "nginx, second request"
    curl -sf -o /dev/null --unix-socket "$TMP/main.sock" http://sluice/healthz \
        || fail "sluice does not answer on its Unix socket"

    # 1. The floor: the fake upstream, directly.
    measure direct_fast "$upstream_pid" wrk_load "$CONNECTIONS" hit.lua "$direct"
    # 2. Hits.
    measure sluice_hit_tcp "$sluice_pid" wrk_load "$CONNECTIONS" hit.lua "$sluice"
    measure nginx_hit "$reference_pid" wrk_load "$CONNECTIONS" hit.lua "$reference"
    measure sluice_hit_tcp_py "$sluice_pid" sock_load "$CONNECTIONS" --tcp "127.0.0.1:$SLUICE_PORT"
    measure sluice_hit_unix_py "$sluice_pid" sock_load "$CONNECTIONS" --unix "$TMP/main.sock"
    # The same stored answer sent as a stream (chat: one entry for both shapes).
    expect_header "$sluice$chat" "${HIT_BODY%\}},\"stream\":true}" x-sluice-cache hit "sluice, the hit asked for as a stream"
    measure sluice_stream_hit_tcp "$sluice_pid" wrk_load "$CONNECTIONS" stream_hit.lua "$sluice"
    # 3. Misses against the fast upstream.
    measure sluice_miss "$sluice_pid" wrk_load "$CONNECTIONS" miss.lua "$sluice"
    measure nginx_miss "$reference_pid" wrk_load "$CONNECTIONS" miss.lua "$reference"
    # 4. Misses against the 20 ms upstream, many connections.
    measure direct_slow "$upstream_pid" wrk_load "$SLOW_CONNECTIONS" miss.lua "$direct" -H 'x-bench-upstream: slow'
    measure sluice_slow "$sluice_pid" wrk_load "$SLOW_CONNECTIONS" miss.lua "$sluice" -H 'x-bench-upstream: slow'
    # 5. Streams: time to the first event, a miss (relayed and recorded) and a replay.
    measure direct_stream "$upstream_pid" first_chunk "127.0.0.1:$UPSTREAM_PORT" "$STREAM_MISS_BODY" --vary
    measure sluice_stream "$sluice_pid" first_chunk "127.0.0.1:$SLUICE_PORT" "$STREAM_MISS_BODY" --vary
    measure sluice_stream_replay "$sluice_pid" first_chunk "127.0.0.1:$SLUICE_PORT" "$STREAM_HIT_BODY"
    # 6. One connection: latency without queueing.
    measure direct_one "$upstream_pid" wrk_load 1 hit.lua "$direct"
    measure sluice_hit_one "$sluice_pid" wrk_load 1 hit.lua "$sluice"
    measure nginx_hit_one "$reference_pid" wrk_load 1 hit.lua "$reference"
    measure sluice_miss_one "$sluice_pid" wrk_load 1 miss.lua "$sluice"

    if [ "$PROFILE" = yes ]; then
        profile sluice_hit "$sluice_pid" wrk_load "$CONNECTIONS" hit.lua "$sluice"
        profile sluice_miss "$sluice_pid" wrk_load "$CONNECTIONS" miss.lua "$sluice"
    fi

    fact sluice_after_runs_rss_kib "$(rss_kib "$sluice_pid")"
    fact sluice_after_runs_entries "$(cache_entries "$TMP/main.db")"
    stop_sluice

    # 7. Hits spread over a small and a large cache, each served by its own
    # freshly started daemon. Each run lasts 31 s so that it includes one write
    # of the hit counters (every 30 s). The large cache runs first with its file
    # as the OS left it (this VM pages out file data unused for a minute); then
    # both files are read into the page cache, as a daemon in steady use has
    # them, and the two caches are measured in turn three times: the ratio is
    # taken between medians, because this machine's speed drifts between runs.
    local spread_duration=31 round
    export BENCH_ENTRIES=$SMALL_CACHE
    start_sluice small "$TMP/small.db"
    local small_pid=$SLUICE_PID small_url=$sluice
    expect_header "$sluice$chat" '{"messages":[{"content":"prefill 1","role":"user"}],"model":"bench/model"}' \
        x-sluice-cache hit "sluice, prefilled entry"
    SLUICE_PORT=$(free_port)
    local large_url="http://127.0.0.1:$SLUICE_PORT"
    start_sluice large "$TMP/large.db"
    local large_pid=$SLUICE_PID
    sleep 2
    fact sluice_large_idle_rss_kib "$(rss_kib "$large_pid")"

    BENCH_ENTRIES=$PREFILL DURATION=$spread_duration \
        measure spread_large_as_left "$large_pid" wrk_load "$CONNECTIONS" spread.lua "$large_url"
    read_into_page_cache "$TMP/small.db"
    read_into_page_cache "$TMP/large.db"
    for round in 1 2 3; do
        BENCH_ENTRIES=$SMALL_CACHE DURATION=$spread_duration \
            measure "spread_small_$round" "$small_pid" wrk_load "$CONNECTIONS" spread.lua "$small_url"
        BENCH_ENTRIES=$PREFILL DURATION=$spread_duration \
            measure "spread_large_$round" "$large_pid" wrk_load "$CONNECTIONS" spread.lua "$large_url"
    done
    fact sluice_large_after_rss_kib "$(rss_kib "$large_pid")"
    fact sluice_large_entries "$(cache_entries "$TMP/large.db")"
    stop_sluice
    SLUICE_PID=$small_pid
    stop_sluice

    # 8. Fleet mode: the same daemon on a throwaway PostgreSQL cluster, against
    # runs 2 and 3 (SQLite) of this invocation. Hits from memory cost the same;
    # a miss adds the fleet claim, the shared bucket take and the store.
    if start_postgres; then
        SLUICE_PORT=$(free_port)
        local fleet_url="http://127.0.0.1:$SLUICE_PORT"
        export PGPASSWORD=$PG_PASSWORD
        start_sluice fleet "$PG_URL"
        unset PGPASSWORD
        local fleet_pid=$SLUICE_PID
        expect_header "$fleet_url$chat" "$HIT_BODY" x-sluice-cache miss "sluice on PostgreSQL, first request"
        expect_header "$fleet_url$chat" "$HIT_BODY" x-sluice-cache hit "sluice on PostgreSQL, second request"
        measure fleet_hit "$fleet_pid" wrk_load "$CONNECTIONS" hit.lua "$fleet_url"
        measure fleet_miss "$fleet_pid" wrk_load "$CONNECTIONS" miss.lua "$fleet_url"
        measure fleet_miss_one "$fleet_pid" wrk_load 1 miss.lua "$fleet_url"
        stop_sluice
    else
        log "no PostgreSQL server (apt-get install postgresql): skipping section 8"
    fi

    mkdir -p "$(dirname "$OUTPUT")"
    python3 "$BENCH_DIR/tools/report.py" "$RECORDS" --profiles "$TMP" \
        --commit "$commit" --binary "$BINARY" --cores "$(nproc)" \
        --cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
        --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNECTIONS" \
        --slow-connections "$SLOW_CONNECTIONS" --stream-count "$STREAM_COUNT" --spread-duration "$spread_duration" \
        --small-cache "$SMALL_CACHE" --large-cache "$PREFILL" \
        --tools "$(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}'), Python $(python3 -c 'import platform; print(platform.python_version())')" \
        | tee "$OUTPUT"
    log "report written to $OUTPUT"
}

# A throwaway PostgreSQL cluster in $TMP/pg on a free port (as the postgres user
# when run as root: PostgreSQL refuses root); sets PG_URL and PG_PASSWORD.
PG_BIN=""
PG_DIR=""
start_postgres() {
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || return 1
    local folder port run=()
    # A folder of its own: $TMP is private to this user, which the server's user is not.
    PG_DIR=$(mktemp -d /tmp/sluice-bench-pg.XXXXXX)
    folder=$PG_DIR
    port=$(free_port)
    PG_PASSWORD="bench-$RANDOM$RANDOM"
    mkdir -p "$folder/socket"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres "$folder"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$PG_BIN/initdb" -D "$folder/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C >"$TMP/pg-initdb.log" 2>&1 || { log "initdb failed: $(tail -1 "$TMP/pg-initdb.log")"; return 1; }
    "${run[@]}" "$PG_BIN/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 30 \
        -o "-p $port -k $folder/socket -c listen_addresses=127.0.0.1" start >/dev/null || return 1
    PG_STARTED=yes
    "${run[@]}" "$PG_BIN/psql" -h "$folder/socket" -p "$port" -U postgres -q \
        -c "CREATE ROLE sluice LOGIN PASSWORD '$PG_PASSWORD'" -c "CREATE DATABASE sluice OWNER sluice" >/dev/null || return 1
    PG_URL="postgresql://sluice@127.0.0.1:$port/sluice?sslmode=disable"
}

stop_postgres() {
    [ "${PG_STARTED:-}" = yes ] || return 0
    local run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}

read_into_page_cache() { # DB: reads the database file and its WAL once
    cat "$1" "$1-wal" >/dev/null 2>&1 || true
}

cache_entries() { # DB: rows in the cache table, read without disturbing anything
    python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute("SELECT entries FROM cache_totals").fetchone()[0])' "$1"
}

main
