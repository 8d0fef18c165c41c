#!/usr/bin/env python3
"""Turns the records of one bench/run.sh invocation into the markdown report:
the table of runs, the memory figures and each target, met or not.

Records, one a line:
  RUN id=ID cpu_ms=N rss_kib=N requests=N seconds=S rps=R p50_us=N p99_us=N errors=N non2xx=N timeouts=N
  FACT NAME VALUE
"""

import argparse
import datetime
import os
import statistics
import sys

# (section, run id, what was measured, server whose CPU and RSS are shown, connections key)
LAYOUT = [
    ("1. Floor", "direct_fast", "fake upstream, direct (wrk)", "upstream nginx", "connections"),
    ("2. Hits", "sluice_hit_tcp", "Sluice hit, TCP (wrk)", "Sluice", "connections"),
    ("2. Hits", "nginx_hit", "nginx cache hit (wrk)", "nginx", "connections"),
    ("2. Hits", "sluice_hit_tcp_py", "Sluice hit, TCP (sockload.py)", "Sluice", "connections"),
    ("2. Hits", "sluice_hit_unix_py", "Sluice hit, Unix socket (sockload.py)", "Sluice", "connections"),
    ("2. Hits", "sluice_stream_hit_tcp", "Sluice hit asked for as a stream, TCP (wrk)", "Sluice", "connections"),
    ("3. Misses, fast upstream", "sluice_miss", "Sluice miss (wrk)", "Sluice", "connections"),
    ("3. Misses, fast upstream", "nginx_miss", "nginx cache miss (wrk)", "nginx", "connections"),
    ("4. Misses, 20 ms upstream", "direct_slow", "fake upstream, direct (wrk)", "upstream nginx", "slow_connections"),
    ("4. Misses, 20 ms upstream", "sluice_slow", "Sluice miss (wrk)", "Sluice", "slow_connections"),
    ("5. Streaming, time to first event", "direct_stream", "fake upstream, direct (sockload.py)", "upstream nginx", "one"),
    ("5. Streaming, time to first event", "sluice_stream", "Sluice stream miss, relayed and stored (sockload.py)", "Sluice", "one"),
    ("5. Streaming, time to first event", "sluice_stream_replay", "Sluice stream hit, replayed (sockload.py)", "Sluice", "one"),
    ("6. One connection", "direct_one", "fake upstream, direct (wrk)", "upstream nginx", "one"),
    ("6. One connection", "sluice_hit_one", "Sluice hit (wrk)", "Sluice", "one"),
    ("6. One connection", "nginx_hit_one", "nginx cache hit (wrk)", "nginx", "one"),
    ("6. One connection", "sluice_miss_one", "Sluice miss (wrk)", "Sluice", "one"),
    ("7. Hits spread over the cache", "spread_large_as_left", "Sluice hit, {large} entries, file as the OS left it (wrk)", "Sluice", "connections"),
    ("7. Hits spread over the cache", "spread_small", "Sluice hit, {small} entries, median of 3 (wrk)", "Sluice", "connections"),
    ("7. Hits spread over the cache", "spread_large", "Sluice hit, {large} entries, file in the page cache, median of 3 (wrk)", "Sluice", "connections"),
    ("8. Fleet mode (PostgreSQL)", "fleet_hit", "Sluice on PostgreSQL, hit (wrk)", "Sluice", "connections"),
    ("8. Fleet mode (PostgreSQL)", "fleet_miss", "Sluice on PostgreSQL, miss (wrk)", "Sluice", "connections"),
    ("8. Fleet mode (PostgreSQL)", "fleet_miss_one", "Sluice on PostgreSQL, miss, one connection (wrk)", "Sluice", "one"),
]

MIB = 1024.0


def parse_records(path):
    runs, facts = {}, {}
    with open(path) as lines:
        for line in lines:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "RUN":
                fields = dict(part.split("=", 1) for part in parts[1:])
                run_id = fields.pop("id")
                runs[run_id] = {name: float(value) for name, value in fields.items()}
            elif parts[0] == "FACT" and len(parts) == 3:
                facts[parts[1]] = float(parts[2])
    return runs, facts


def add_medians(runs, base):
    """Runs BASE_1, BASE_2, ... become BASE: the median of each field.
    Returns the repeats' req/s in order (empty when there were none)."""
    numbered = {int(key[len(base) + 1:]): run for key, run in runs.items()
                if key.startswith(base + "_") and key[len(base) + 1:].isdigit()}
    repeats = [numbered[index] for index in sorted(numbered)]
    if not repeats:
        return []
    runs[base] = {field: statistics.median(run[field] for run in repeats) for field in repeats[0]}
    return [run["rps"] for run in repeats]


def number(value, digits=0):
    return f"{value:,.{digits}f}"


def table(runs, args):
    connections = {"connections": args.connections, "slow_connections": args.slow_connections, "one": 1}
    rows = [
        "| run | server measured | conns | req/s | p50 ms | p99 ms | errors | CPU ms/req | RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    section = None
    for group, run_id, label, server, connection_key in LAYOUT:
        if group != section:
            rows.append(f"| **{group}** | | | | | | | | |")
            section = group
        label = label.format(small=number(args.small_cache), large=number(args.large_cache))
        run = runs.get(run_id)
        if run is None:
            rows.append(f"| {label} | {server} | | not run | | | | | |")
            continue
        errors = int(run["errors"] + run["non2xx"])
        cpu = run["cpu_ms"] / run["requests"] if run["requests"] else 0
        rps = "n/a" if run_id.endswith("_stream") else number(run["rps"])
        rows.append(
            f"| {label} | {server} | {connections[connection_key]} | {rps} | "
            f"{run['p50_us'] / 1000:.3f} | {run['p99_us'] / 1000:.3f} | {errors} | {cpu:.3f} | "
            f"{run['rss_kib'] / MIB:.1f} |"
        )
    return rows


class Targets:
    """Each target as a line: what, the measurement, met or not."""

    def __init__(self, runs, facts):
        self.runs, self.facts, self.lines = runs, facts, []

    def value(self, run_id, field):
        run = self.runs.get(run_id)
        return None if run is None else run[field]

    def check(self, what, measured, met):
        if measured is None:
            self.lines.append(f"| {what} | not measured | — |")
        else:
            self.lines.append(f"| {what} | {measured} | {'met' if met else '**not met**'} |")

    def ratio(self, what, numerator, denominator, field, at_least):
        a, b = self.value(numerator, field), self.value(denominator, field)
        if a is None or b is None or b == 0:
            return self.check(what, None, False)
        self.check(what, f"{a / b:.2f}× ({number(a)} vs {number(b)})", a / b >= at_least)

    def delta_ms(self, what, run_id, floor_id, field, at_most_ms):
        a, b = self.value(run_id, field), self.value(floor_id, field)
        if a is None or b is None:
            return self.check(what, None, False)
        delta = (a - b) / 1000
        self.check(what, f"+{delta:.3f} ms ({a / 1000:.3f} vs {b / 1000:.3f})", delta <= at_most_ms)

    def below(self, what, fact, limit_mib):
        value = self.facts.get(fact)
        if value is None:
            return self.check(what, None, False)
        self.check(what, f"{value / MIB:.1f} MiB", value / MIB < limit_mib)

    def render(self):
        return ["| target | measured | |", "|---|---|---|"] + self.lines


def targets(runs, facts):
    t = Targets(runs, facts)
    t.ratio("hit throughput ≥ nginx's (Sluice/nginx)", "sluice_hit_tcp", "nginx_hit", "rps", 1.0)
    a, b = t.value("sluice_hit_tcp", "p99_us"), t.value("nginx_hit", "p99_us")
    t.check("hit p99 no worse than nginx's", None if a is None or b is None else
            f"{a / 1000:.3f} ms vs {b / 1000:.3f} ms", a is not None and b is not None and a <= b)
    t.ratio("miss throughput, fast upstream, ≥ nginx's", "sluice_miss", "nginx_miss", "rps", 1.0)
    t.ratio("misses, 20 ms upstream, 256 conns: within 10% of direct", "sluice_slow", "direct_slow", "rps", 0.9)
    slow = runs.get("sluice_slow")
    failures = None if slow is None else int(slow["errors"] + slow["non2xx"] + slow["timeouts"])
    t.check("misses, 20 ms upstream: no errors or timeouts", failures, failures == 0)
    t.delta_ms("one connection: hit p50 within 0.1 ms of direct", "sluice_hit_one", "direct_one", "p50_us", 0.1)
    t.delta_ms("one connection: miss p50 within 0.3 ms of direct", "sluice_miss_one", "direct_one", "p50_us", 0.3)
    t.delta_ms("stream miss: first event (p50) within 1 ms of direct", "sluice_stream", "direct_stream", "p50_us", 1.0)
    t.ratio("stream hit throughput ≥ 0.8× plain hit throughput", "sluice_stream_hit_tcp", "sluice_hit_tcp", "rps", 0.8)
    t.ratio("fleet mode: hits ≥ 0.9× SQLite's", "fleet_hit", "sluice_hit_tcp", "rps", 0.9)
    t.ratio("fleet mode: misses ≥ 0.5× SQLite's", "fleet_miss", "sluice_miss", "rps", 0.5)
    t.delta_ms("fleet mode: one-connection miss p50 within 1 ms of SQLite's", "fleet_miss_one", "sluice_miss_one", "p50_us", 1.0)
    t.below("RSS idle < 64 MiB", "sluice_idle_rss_kib", 64)
    t.below("RSS after the runs with a 1M-entry cache < 256 MiB", "sluice_large_after_rss_kib", 256)
    return t.render()


def memory(facts, args):
    def mib(name):
        value = facts.get(name)
        return "—" if value is None else f"{value / MIB:.1f} MiB"

    def count(name):
        value = facts.get(name)
        return "—" if value is None else number(value)

    return [
        "| Sluice process | RSS | cache entries |",
        "|---|---:|---:|",
        f"| idle, just started (empty cache) | {mib('sluice_idle_rss_kib')} | 0 |",
        f"| after runs 1–6 | {mib('sluice_after_runs_rss_kib')} | {count('sluice_after_runs_entries')} |",
        f"| idle, started on the prefilled large cache | {mib('sluice_large_idle_rss_kib')} | {number(args.large_cache)} |",
        f"| after the spread-hit run on the large cache | {mib('sluice_large_after_rss_kib')} | {count('sluice_large_entries')} |",
    ]


def profiles(folder):
    """The perf summaries of `run.sh --profile`, when there are any."""
    if not folder:
        return []
    sections = []
    for name, title in (("sluice_hit", "hits"), ("sluice_miss", "misses, fast upstream")):
        path = os.path.join(folder, f"profile-{name}.txt")
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            continue
        with open(path) as text:
            sections += [f"### Sluice under {title}", "", "```", text.read().rstrip(), "```", ""]
    if sections:
        sections = ["## Where Sluice's CPU time goes (perf, self time by symbol, ≥ 1%)", ""] + sections
    return sections


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("records")
    parser.add_argument("--profiles", help="folder with profile-NAME.txt files from perf (optional)")
    for name in ("commit", "binary", "cores", "cpu", "tools"):
        parser.add_argument("--" + name, default="unknown")
    for name in ("duration", "warmup"):
        parser.add_argument("--" + name, type=float, required=True)
    for name in ("connections", "slow-connections", "stream-count", "small-cache", "large-cache", "spread-duration"):
        parser.add_argument("--" + name, type=int, required=True)
    args = parser.parse_args()
    runs, facts = parse_records(args.records)

    small_repeats = add_medians(runs, "spread_small")
    large_repeats = add_medians(runs, "spread_large")
    small, large = runs.get("spread_small"), runs.get("spread_large")
    as_left = runs.get("spread_large_as_left")
    spread = ""
    if small and large and small["rps"]:
        spread = (f"Hit throughput with {number(args.large_cache)} entries is "
                  f"{large['rps'] / small['rps']:.2f}× that with {number(args.small_cache)} (medians; "
                  f"req/s of the three rounds, small then large: "
                  + ", ".join(f"{number(a)} / {number(b)}" for a, b in zip(small_repeats, large_repeats)) + ")")
        if as_left:
            spread += (f"; {as_left['rps'] / small['rps']:.2f}× with the large database file as the OS left it, "
                       "partly paged out")
        spread += "."

    out = [
        "# Sluice benchmark",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- commit: {args.commit}",
        f"- machine: {args.cores} cores ({args.cpu}); load generators, servers and the fake upstream share them; "
        f"1-minute load average before the runs: {facts.get('load_average_at_start', float('nan')):.2f}",
        f"- sluice binary: `{args.binary}`",
        f"- tools: {args.tools}",
        f"- each run: {args.warmup:g} s warm-up, then {args.duration:g} s measured; "
        f"throughput runs use {args.connections} connections (wrk -t2), the 20 ms runs {args.slow_connections}; "
        f"streaming: {args.stream_count} sequential requests on one connection; "
        f"section 7 measures {args.spread_duration} s per run, so that each includes a write of the hit counters (every 30 s)",
        "- CPU ms/req: user+system time of the server measured (for nginx, master and workers) "
        "over the measured run, divided by its requests; RSS after the run",
        "",
        "## Runs",
        "",
        *table(runs, args),
        "",
        "In section 5, p50/p99 are the time from sending the request to the first SSE event.",
        "",
        "## Memory",
        "",
        *memory(facts, args),
        "",
        spread,
        "",
        "## Targets",
        "",
        *targets(runs, facts),
        "",
        *profiles(args.profiles),
    ]
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
