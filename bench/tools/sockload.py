#!/usr/bin/env python3
"""Small HTTP/1.1 load generator for the benchmark, over TCP or a Unix socket.

wrk cannot connect to a Unix socket, so Sluice's socket is measured with this
tool, and Sluice's TCP listener with this tool too, so that the two transports
are compared with the same client. It keeps a fixed number of keep-alive
connections, each with one request in flight, on one thread (epoll), and
prints the same summary line as bench/lua/report.lua.

Modes:
  load         fixed concurrency for a duration, after a warm-up
  first-chunk  sequential streaming requests on one connection: time from
               sending the request to the first byte of the first SSE event;
               with --vary, `@N@` in the body becomes the request's number, so
               that every request is a different one (a cache miss)
"""

import argparse
import array
import os
import pickle
import select
import socket
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--unix", metavar="PATH", help="Unix socket path")
    target.add_argument("--tcp", metavar="HOST:PORT", help="TCP address")
    parser.add_argument("--mode", choices=["load", "first-chunk"], default="load")
    parser.add_argument("--connections", type=int, default=32, help="in all, shared by the processes")
    parser.add_argument("--processes", type=int, default=2, help="load processes (like wrk -t)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured (load)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring (load)")
    parser.add_argument("--count", type=int, default=200, help="requests measured (first-chunk)")
    parser.add_argument("--body", required=True, help="request body (JSON text)")
    parser.add_argument("--path", default="/v1/chat/completions")
    parser.add_argument("--header", action="append", default=[], metavar="NAME: VALUE")
    parser.add_argument("--vary", action="store_true", help="replace @N@ in the body per request (first-chunk)")
    return parser.parse_args()


def build_request(args, body_text=None):
    body = (args.body if body_text is None else body_text).encode()
    lines = [
        f"POST {args.path} HTTP/1.1",
        "Host: localhost",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ] + args.header
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def connect(args):
    if args.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(args.unix)
    else:
        host, _, port = args.tcp.rpartition(":")
        sock = socket.create_connection((host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Response:
    """Incremental parser for one response: status, then a body framed by
    Content-Length or chunked encoding."""

    def __init__(self):
        self.buffer = b""
        self.status = None
        self.body_start = None
        self.length = None
        self.chunked = False

    def feed(self, data):
        """Adds bytes; returns the number of bytes past this response once it
        is complete (kept for the next one), or None while incomplete."""
        self.buffer += data
        if self.body_start is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            head = self.buffer[:end].decode("latin-1").lower()
            self.status = int(head.split(" ", 2)[1])
            self.body_start = end + 4
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    self.length = int(value.strip())
                elif name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
        if self.chunked:
            end = self.buffer.find(b"\r\n0\r\n\r\n", self.body_start - 2)
            if end < 0:
                return None
            return len(self.buffer) - (end + 7)
        total = self.body_start + (self.length or 0)
        if len(self.buffer) < total:
            return None
        return len(self.buffer) - total

    def body_bytes(self):
        return self.buffer[self.body_start:] if self.body_start is not None else b""


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


def print_summary(count, seconds, latencies_ns, errors, non2xx):
    latencies_ns = sorted(latencies_ns)
    print(
        "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d timeouts=0"
        % (
            count, seconds, count / seconds if seconds else 0,
            percentile(latencies_ns, 0.50) // 1000, percentile(latencies_ns, 0.99) // 1000,
            errors, non2xx,
        )
    )


def run_load(args):
    """Forks the load processes, each with its share of the connections, and
    merges what they measured."""
    start = time.monotonic()
    measure_from, stop_at = start + args.warmup, start + args.warmup + args.duration
    readers = []
    for index in range(args.processes):
        share = args.connections // args.processes + (1 if index < args.connections % args.processes else 0)
        reader, writer = os.pipe()
        if os.fork() == 0:
            os.close(reader)
            try:
                result = load_process(args, share, measure_from, stop_at)
            except OSError as error:
                print(f"sockload: {error}", file=sys.stderr)
                result = (0, 0.0, array.array("q"), share, 0)
            with os.fdopen(writer, "wb") as pipe:
                pickle.dump(result, pipe)
            os._exit(0)
        os.close(writer)
        readers.append(reader)
    completed, seconds, latencies, errors, non2xx = 0, 0.0, [], 0, 0
    for reader in readers:
        with os.fdopen(reader, "rb") as pipe:
            count, elapsed, samples, failed, bad = pickle.load(pipe)
        completed += count
        seconds = max(seconds, elapsed)
        latencies.extend(samples)
        errors += failed
        non2xx += bad
    for _ in readers:
        os.wait()
    print_summary(completed, seconds, latencies, errors, non2xx)


def load_process(args, connection_count, measure_from, stop_at):
    request = build_request(args)
    poller = select.epoll()
    connections = {}
    for _ in range(connection_count):
        sock = connect(args)
        sock.setblocking(False)
        connections[sock.fileno()] = {"sock": sock, "response": Response(), "sent_at": 0}
        poller.register(sock.fileno(), select.EPOLLIN)

    latencies, completed, errors, non2xx = array.array("q"), 0, 0, 0

    def send(state):
        state["response"] = Response()
        state["sent_at"] = time.monotonic_ns()
        state["sock"].sendall(request)

    for state in connections.values():
        send(state)

    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        for fd, _ in poller.poll(0.5):
            state = connections[fd]
            try:
                data = state["sock"].recv(65536)
            except BlockingIOError:
                continue
            if not data:
                errors += 1
                poller.unregister(fd)
                del connections[fd]
                if not connections:
                    break
                continue
            leftover = state["response"].feed(data)
            if leftover is None:
                continue
            finished = time.monotonic_ns()
            if finished / 1e9 >= measure_from:
                completed += 1
                latencies.append(finished - state["sent_at"])
                if not 200 <= state["response"].status < 300:
                    non2xx += 1
            send(state)
        if not connections:
            break
    elapsed = min(time.monotonic(), stop_at) - measure_from
    for state in connections.values():
        state["sock"].close()
    return completed, elapsed, latencies, errors, non2xx


def run_first_chunk(args):
    """Sequential streaming requests on one keep-alive connection."""
    request = build_request(args)
    sock = connect(args)
    first_chunk, errors = [], 0
    run = "%d-%d" % (os.getpid(), time.monotonic_ns())
    for index in range(args.count + 5):  # the first five warm the path up
        if args.vary:
            request = build_request(args, args.body.replace("@N@", "%s-%d" % (run, index)))
        sent = time.monotonic_ns()
        sock.sendall(request)
        response, seen_at = Response(), None
        while True:
            data = sock.recv(65536)
            if not data:
                errors += 1
                sock.close()
                sock = connect(args)
                break
            done = response.feed(data)
            if seen_at is None and b"data:" in response.body_bytes():
                seen_at = time.monotonic_ns()
            if done is not None:
                break
        if index >= 5 and seen_at is not None:
            first_chunk.append(seen_at - sent)
    sock.close()
    first_chunk.sort()
    print(
        "BENCH requests=%d seconds=0 rps=0 p50_us=%d p99_us=%d errors=%d non2xx=0 timeouts=0"
        % (len(first_chunk), percentile(first_chunk, 0.50) // 1000, percentile(first_chunk, 0.99) // 1000, errors)
    )


def main():
    args = parse_args()
    try:
        if args.mode == "load":
            run_load(args)
        else:
            run_first_chunk(args)
    except OSError as error:
        print(f"sockload: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
