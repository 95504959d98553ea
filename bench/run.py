#!/usr/bin/env python3
"""ember vs microdot (vs tinyweb) on the same MicroPython unix binary: one run, one table.

    .venv/bin/python bench/run.py [--quick] [--micropython DIR] [--tinyweb PATH] [--only ...]

What it measures (bench/README.md has the method in full):
  1. one unix-port binary per server, built from micropython/ with the server and its hello-world
     app frozen at -O3 (build/bench-<name>/micropython; rebuilt only when a source changed);
  2. requests/s: wrk -t1 -c10 -d5s against each (and ember on CPython for reference);
  3. interpreter instructions per GET under callgrind, measured between two marker calls
     (--zero-before / --dump-before), minus an empty marker window, divided by N;
  4. bytes allocated per GET: micropython.mem_total() read inside the server at the same markers;
  5. the same two for ember's handler shapes (def / async def, reading the method, path, a query
     argument, a header, a path parameter) against the bare asyncio server's instructions;
  6. heap kept after importing the frozen server + app, and frozen .mpy size (xtensawin, -O3);
  7. overload: -X heapsize=24k, 100 concurrent clients for 5 s, then 10 sequential requests.

This is not a test: the suite never calls it. The MicroPython tree is --micropython PATH, else
$EMBER_MPY_DIR, else micropython/, else the archive tree `./build.sh unix` unpacked from
$EMBER_MICROPYTHON_SRC; without one it prints the CPython rows only and exits 0. tinyweb is
optional: it is copied into bench/peers/ (gitignored) at run time from --tinyweb PATH or
$EMBER_BENCH_TINYWEB (a server.py, a checkout, a bare git directory, or a .tar.* archive).

The parts: servers.py and peers.py (what is measured), builds.py (the binaries), footprint.py,
per_request.py, load.py and realtime.py (the measurements), report.py (the tables)."""

import argparse
import json
import os
import shutil
import sys

import footprint
import load
import per_request
import realtime
from builds import build, find_micropython
from paths import APPS, OUT, ROOT
from peers import microdot_dir
from progress import say
from report import report
from servers import servers

SMALL_EMBER = "max_connections=4, max_head=512"  # the 24k rows are repeated with this App config


def cpython_rows(cfg):
    """ember and microdot on the CPython running the bench, wrk only."""
    rows = {}
    version = sys.version.split()[0]
    for name in ("ember", "microdot"):
        if name == "microdot" and not microdot_dir():
            continue
        say(f"{name} on CPython {version}: wrk -t1 -c10 -d{cfg['secs']}s")
        r = {"label": "%s (CPython %s)" % (name, version),
             "wrk": load.throughput(None, cfg["secs"], "bench_" + name)}
        r["probe"] = {"http": r["wrk"].get("http"), "closes": r["wrk"].get("closes")}
        rows["cpython-" + name] = r
    return rows


def measure_server(s, cfg, mpy_dir, callgrind_dir):
    """Every measurement of one server's binary (callgrind_dir None: no instruction counts)."""
    say(f"== {s.label}")
    r = {"label": s.label, "binary": str(s.binary.relative_to(ROOT))}
    r["sizes"] = footprint.frozen_sizes(s, mpy_dir)
    r["heap"] = footprint.heap_kept(s)
    if s.name in ("ember", "microdot"):
        mods = [m[:-3].replace("/", ".") for m in r["sizes"] if not m.endswith("__init__.py")]
        r["features"] = footprint.feature_imports(s, mods)
    say("  callgrind + mem_total window")
    r["probe"] = per_request.probe(s, cfg["n"], cfg["warm"], callgrind_dir)
    if s.name == "ember":
        say(f"  handler shapes: {len(per_request.SHAPES)} paths, one run")
        r["shapes"] = per_request.shapes(s, cfg["n"], cfg["warm"], callgrind_dir)
    say("  wrk")
    r["wrk"] = load.throughput(s, cfg["secs"])
    if s.name in ("ember", "microdot"):  # issue #3: same endpoints, same clients
        say("  WebSocket echo, SSE fan-out (bench/realtime.py)")
        r["realtime"] = realtime.measure(
            realtime.unix_cmd(s.binary, "rt_" + s.name),
            {**os.environ, "MICROPYPATH": ".frozen:" + str(APPS)}, cfg["secs"])
    say("  overload")
    r["overload"] = load.overload(s, cfg["osecs"], clients=cfg["clients"])
    if s.name == "ember":  # also a configuration sized for a 24 KB heap
        say("  overload, " + SMALL_EMBER)
        r["overload_small"] = load.overload(s, cfg["osecs"], clients=cfg["clients"],
                                            config=SMALL_EMBER)
    say("  " + json.dumps({k: r[k] for k in ("wrk", "heap")})[:300])
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (2 s wrk, N=50)")
    ap.add_argument("--tinyweb", help="tinyweb: server.py, checkout, bare git dir or archive")
    ap.add_argument("--micropython", help="MicroPython source tree (default: see above)")
    ap.add_argument("--only", help="comma-separated: ember,microdot,tinyweb,bare")
    ap.add_argument("--requests", type=int, help="N requests in the measured window")
    args = ap.parse_args()
    mpy_dir = find_micropython(args.micropython)
    cfg = {"secs": 2 if args.quick else 5, "n": args.requests or (50 if args.quick else 200),
           "warm": 10 if args.quick else 20, "clients": 100, "osecs": 3 if args.quick else 5}
    OUT.mkdir(parents=True, exist_ok=True)
    if not shutil.which("wrk"):
        sys.exit("bench needs wrk (Debian: apt-get install wrk)")

    cpython = cpython_rows(cfg)
    if mpy_dir is None:
        say("no MicroPython tree (--micropython, $EMBER_MPY_DIR, micropython/, or run "
            "EMBER_MICROPYTHON_SRC=... ./build.sh unix once): CPython rows only")
        report(cpython, list(cpython), cfg, cpython_only=True)
        return
    callgrind_dir = OUT / "callgrind"  # dumps are kept for callgrind_annotate
    if shutil.which("valgrind"):
        callgrind_dir.mkdir(exist_ok=True)
    else:
        say("valgrind not found: no instruction counts")
        callgrind_dir = None
    srvs = servers(args.only, args.tinyweb)
    for s in srvs:
        build(s, mpy_dir)
    results = {s.name: measure_server(s, cfg, mpy_dir, callgrind_dir) for s in srvs}
    results.update(cpython)
    report(results, [s.name for s in srvs] + list(cpython), cfg, cpython_only=False)


if __name__ == "__main__":
    main()
