#!/usr/bin/env python3
"""WebSocket echo round-trips/s and SSE fan-out events/s, ember vs microdot, same runtime.

    .venv/bin/python bench/realtime.py [--secs 3] [--runtime unix|cpython] [--streams 10]

bench/run.py calls `measure()` on its frozen unix binaries; run alone, this script uses the unix
port binary the tests use (micropython/ports/unix/build-standard/micropython, ember and microdot
as source on MICROPYPATH) or CPython. Clients are raw sockets (a pre-masked 32-byte text frame,
echoed back; SSE events counted with bytes.count), so the client is not the bottleneck.

- ws_rtt_per_s: one connection, send a frame, wait for its echo, repeat (round-trips/s).
- sse_events_per_s: `streams` concurrent SSE connections, each handler sending 32-byte events as
  fast as the socket takes them; events/s summed over all streams. Both producers
  `await asyncio.sleep(0)` after each send: microdot's `sse.send()` only appends to a queue and
  never waits for the socket, so a producer that awaits nothing else starves microdot's writer
  (measured: 115 events/s while its queue grows without bound)."""

import argparse
import os
import selectors
import socket
import sys
import time

from paths import APPS, ROOT
from peers import microdot_dir
from process import Proc, free_port

MASK = b"\x11\x22\x33\x44"
PAYLOAD = b"y" * 32
FRAME = (
    bytes((0x81, 0x80 | len(PAYLOAD)))
    + MASK
    + bytes(b ^ MASK[i % 4] for i, b in enumerate(PAYLOAD))
)
ECHO = bytes((0x81, len(PAYLOAD))) + PAYLOAD


def ws_echo(port, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        return {"error": head[:100].decode(errors="replace")}
    n = 0
    want = len(ECHO)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for _ in range(20):
            s.sendall(FRAME)
            got = b""
            while len(got) < want:
                chunk = s.recv(want - len(got))
                if not chunk:
                    return {"error": "closed after %d round-trips" % n}
                got += chunk
            assert got == ECHO, got
            n += 1
    s.close()
    return n / secs


def sse_fanout(port, secs, streams):
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(streams):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    count = 0
    tail = {}
    start = time.monotonic()
    warm = start + min(1.0, secs / 3)  # let every stream get going before counting
    end = warm + secs
    counting = False
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if not counting and now >= warm:
            counting, count = True, 0
        for key, _ in sel.select(0.2):
            try:
                data = key.fileobj.recv(262144)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            prev = tail.get(key.fileobj, b"")
            buf = prev + data
            count += buf.count(b"\n\n")  # one blank line ends each event
            tail[key.fileobj] = buf[-1:]
    for s in socks:
        s.close()
    return count / secs


def measure(cmd, env, secs=3, streams=10):
    """Start the server (`cmd(port)` is its command line), measure, stop."""
    port = free_port()
    p = Proc(cmd(port), env)
    try:
        if not p.wait_listening(port, 20):
            return {"error": "did not start: " + p.output()[:2000]}
        out = {"ws_rtt_per_s": ws_echo(port, secs)}
        out["sse_events_per_s"] = sse_fanout(port, secs, streams)
        out["alive"] = p.alive()
        return out
    finally:
        p.stop()


def unix_cmd(binary, module):
    return lambda port: [str(binary), "-c", f"import {module}; {module}.main({port})"]


def cpython_cmd(module):
    return lambda port: [sys.executable, "-c", f"import {module}; {module}.main({port})"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--streams", type=int, default=10)
    ap.add_argument("--runtime", choices=("unix", "cpython"), default="unix")
    args = ap.parse_args()
    md = microdot_dir()
    rows = {}
    for name in ("ember", "microdot"):
        module = "rt_" + name
        if args.runtime == "cpython":
            env = dict(os.environ, PYTHONPATH=f"{ROOT / 'modules'}:{APPS}")
            cmd = cpython_cmd(module)
        else:
            binary = ROOT / "micropython" / "ports" / "unix" / "build-standard" / "micropython"
            if not binary.exists():
                sys.exit("no MicroPython unix build at " + str(binary))
            # microdot's package directory sits next to ember's on the path, both as source.
            env = dict(os.environ, MICROPYPATH=f"{ROOT / 'modules'}:{md.parent}:{APPS}:.frozen")
            cmd = unix_cmd(binary, module)
        print(f"{name} ({args.runtime}) ...", file=sys.stderr)
        rows[name] = measure(cmd, env, args.secs, args.streams)
    print(table(rows, args.streams))


def table(rows, streams):
    lines = [
        f"| server | WebSocket echo, round-trips/s (1 conn, 32 B) | SSE fan-out, events/s "
        f"({streams} streams, 32 B) |",
        "|---|---|---|",
    ]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | |")
            continue
        lines.append(f"| {name} | {r['ws_rtt_per_s']:,.0f} | {r['sse_events_per_s']:,.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
