#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each for a fixed time.
#
#   bash scripts/fuzz.sh                 # every target, 60 s each
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh json http
#   bash scripts/fuzz.sh -t 120 --minimize config
#
# Targets: json (JSONParser, CanonicalJSON, RequestSummary, CacheableBody),
# config (ConfigFile.parse(yaml:), SettingsResolver), http (NIO's HTTP/1.1
# server pipeline on an EmbeddedChannel with a responder that parses bodies).
#
# Options:
#   -t, --seconds N   run each target N seconds (default $FUZZ_SECONDS, else 60)
#   --minimize        afterwards, merge what the run found into the committed
#                     regression corpus (only inputs that add coverage, at most
#                     $FUZZ_CORPUS_MAX files per target) and copy crash inputs there
#   --no-build        use the binaries already built
#
# The build uses its own scratch folder, .build-fuzz (never .build), with
# -sanitize=fuzzer,address on every Swift module. Everything runs under
# `nice -n 10`, one fuzzer process at a time. Each target starts from its
# committed corpus (read only) and keeps what it finds in
# fuzz/.corpus-work/TARGET (git-ignored); crash inputs go to
# fuzz/.corpus-work/TARGET-crashes. After a crash the fuzzer is restarted until
# the time is used up, so the crash count is the number of crash inputs found.
#
# Exit status: 0 when no target crashed, 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
minimize=0
build=1
corpus_max="${FUZZ_CORPUS_MAX:-100}"
max_len=4096
targets=()

while [ $# -gt 0 ]; do
    case "$1" in
        -t|--seconds) seconds="$2"; shift 2 ;;
        --minimize) minimize=1; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        json|config|http) targets+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument $1 (targets: json config http)" >&2; exit 2 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(json config http)
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a whole number" >&2; exit 2 ;; esac

scratch="$root/.build-fuzz"
swift_flags=(-c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address)
if [ "$build" -eq 1 ]; then
    echo "fuzz.sh: building the fuzz targets (scratch $scratch)"
    (cd "$root/fuzz" && nice -n 10 swift build "${swift_flags[@]}")
fi
bin="$(cd "$root/fuzz" && swift build "${swift_flags[@]}" --show-bin-path)"

binary_of() {
    case "$1" in json) echo FuzzJSON ;; config) echo FuzzConfig ;; http) echo FuzzHTTP ;; esac
}
corpus_of() {
    case "$1" in
        json) echo "$root/Tests/SluiceCoreTests/FuzzCorpus/json" ;;
        config) echo "$root/Tests/SluiceCoreTests/FuzzCorpus/config" ;;
        http) echo "$root/Tests/SluiceServerTests/FuzzCorpus/http" ;;
    esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
summary=()
status=0
for target in "${targets[@]}"; do
    exe="$bin/$(binary_of "$target")"
    committed="$(corpus_of "$target")"
    work="$root/fuzz/.corpus-work/$target"
    crashes_dir="$root/fuzz/.corpus-work/$target-crashes"
    logs="$root/fuzz/.corpus-work/logs"
    mkdir -p "$work" "$crashes_dir" "$logs" "$committed"
    [ -x "$exe" ] || { echo "fuzz.sh: $exe is not built" >&2; exit 1; }

    executions=0
    crashes=0
    runs=0
    remaining="$seconds"
    while [ "$remaining" -gt 0 ]; do
        runs=$((runs + 1))
        log="$logs/$target-$runs.log"
        started=$(date +%s)
        set +e
        nice -n 10 "$exe" -max_total_time="$remaining" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -dict="$root/fuzz/dicts/$target.dict" -artifact_prefix="$crashes_dir/" \
            "$work" "$committed" >"$log" 2>&1
        code=$?
        set -e
        elapsed=$(( $(date +%s) - started ))
        ran=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        executions=$((executions + ${ran:-0}))
        if [ "$code" -ne 0 ] && ! grep -q 'Test unit written to' "$log"; then
            echo "fuzz.sh: $target: the fuzzer failed without a crash input (exit $code); see $log" >&2
            tail -3 "$log" >&2
            exit 1
        fi
        if [ "$code" -ne 0 ]; then
            crashes=$((crashes + 1))
            status=1
            echo "fuzz.sh: $target crashed (run $runs, exit $code); see $log" >&2
            grep -E 'Fatal error|fuzz check failed|ERROR: AddressSanitizer|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -8 >&2 || true
            [ "$crashes" -lt 20 ] || { echo "fuzz.sh: $target: 20 crashes, stopping" >&2; break; }
        fi
        # A crash run lasts at least a second, so this ends.
        remaining=$(( remaining - (elapsed > 0 ? elapsed : 1) ))
    done
    found=$(find "$work" -type f | wc -l)
    summary+=("$(printf '%-7s %3ss  executions %10d  crashes %d  working corpus %d files' \
        "$target" "$seconds" "$executions" "$crashes" "$found")")

    if [ "$minimize" -eq 1 ]; then
        merged="$(mktemp -d)"
        cp "$committed"/* "$merged"/ 2>/dev/null || true
        before=$(find "$merged" -type f | wc -l)
        # -merge=1 adds to $merged only the inputs of $work that add coverage.
        nice -n 10 "$exe" -merge=1 -max_len="$max_len" -timeout=10 "$merged" "$work" >"$logs/$target-merge.log" 2>&1 || true
        added=0
        # The merge keeps what adds coverage; when that is more than there is
        # room for, take an even spread from the smallest to the largest.
        room=$(( corpus_max > before ? corpus_max - before : 0 ))
        for file in $(find "$merged" -type f -size -4097c -printf '%s %p\n' | sort -n | cut -d' ' -f2- |
                      awk -v room="$room" '{ line[NR] = $0 } END { if (NR <= room) { for (i = 1; i <= NR; i++) print line[i] } else if (room > 0) { for (i = 0; i < room; i++) print line[1 + int(i * NR / room)] } }'); do
            [ $(( before + added )) -lt "$corpus_max" ] || break
            name="$(basename "$file")"
            if [ -e "$committed/$name" ] || [ -e "$committed/found-${name:0:16}" ]; then continue; fi
            cp "$file" "$committed/found-${name:0:16}"
            added=$((added + 1))
        done
        for file in "$crashes_dir"/*; do
            [ -f "$file" ] || continue
            name="$(basename "$file")"
            cp "$file" "$committed/${name%%-*}-$(sha1sum "$file" | cut -c1-16)"
        done
        rm -rf "$merged"
        echo "fuzz.sh: $target: added $added inputs to $committed (plus crash inputs)"
    fi
done

echo
echo "fuzz.sh results (libFuzzer stat::number_of_executed_units; crashes = crash inputs found):"
printf '  %s\n' "${summary[@]}"
exit "$status"
