"""Heap use of frozen ember on the MicroPython unix port, measured inside MicroPython.

ESP8266 boards have ~36 KB of heap, so what importing ember and serving a request costs decides
whether an app fits. tests/test_heap_budget.py asserts the budgets; this prints the numbers:

    python -m ember_host.heap [path/to/micropython]   (default: build/unix/micropython)

Needs a binary from `./build.sh unix` (ember and examples/demo.py frozen). Pointers are 64-bit on
the unix port, so device figures are roughly half to two thirds of these.
"""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# ESP8266 has ~36 KB of heap for Python; objects here are up to twice as big (64-bit pointers).
HEAPSIZE = "64k"

_IMPORT = """
import gc
gc.collect()
base = gc.mem_alloc()
import asyncio, json, socket, select
gc.collect()
platform = gc.mem_alloc()
import ember, demo
gc.collect()
print(platform - base, gc.mem_alloc() - platform, ember.__file__)
"""


def _run_micropython(binary, *args, **kwargs):
    """Run with only frozen modules on the path, from an empty directory (nothing on disk)."""
    env = dict(os.environ, MICROPYPATH=".frozen")
    with tempfile.TemporaryDirectory() as tmp:
        return subprocess.run(
            [str(Path(binary).resolve()), "-X", f"heapsize={HEAPSIZE}", *args],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            **kwargs,
        )


def is_frozen_build(binary):
    """True when `binary` has ember and the demo app frozen in (what ./build.sh unix makes)."""
    proc = _run_micropython(binary, "-c", "import ember, demo")
    return proc.returncode == 0


def import_cost(binary):
    """(bytes kept by asyncio+json+socket+select, bytes kept by importing ember + demo)."""
    proc = _run_micropython(binary, "-c", _IMPORT)
    if proc.returncode:
        raise RuntimeError(proc.stdout + proc.stderr)
    platform, ember, _ = proc.stdout.split()
    return int(platform), int(ember)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_cost(binary, path="/", n=50):
    """Bytes allocated per keep-alive `GET path` (micropython.mem_total() delta / n).

    Serves tests/apps/heap_demo.py (the demo plus /__mem, reporting mem_total()). One /__mem
    call's own cost is measured first (two calls back to back) and subtracted."""
    port = _free_port()
    env = dict(os.environ, MICROPYPATH=".frozen")
    cmd = [
        str(Path(binary).resolve()),
        "-X",
        f"heapsize={HEAPSIZE}",
        str(ROOT / "tests" / "serve_app.py"),
        str(ROOT / "tests" / "apps" / "heap_demo.py"),
        str(port),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            if "EMBER READY" not in proc.stdout.readline():
                raise RuntimeError("heap_demo did not start: " + proc.stdout.read())
            return _measure(port, path, n, proc)
        finally:
            proc.kill()
            proc.wait()


def _measure(port, path, n, proc):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"User-Agent": "ember-heap/1", "Accept": "*/*", "Accept-Encoding": "gzip"}

    def get(p):
        conn.request("GET", p, headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or r.will_close:
            raise RuntimeError(f"GET {p}: {r.status}, keep-alive {not r.will_close}")
        return body

    def mem():
        return int(get("/__mem"))

    deadline = time.monotonic() + 5
    while True:  # "EMBER READY" may precede the first accept by a moment
        try:
            first = mem()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.05)
    overhead = mem() - first
    start = mem()
    for _ in range(n):
        get(path)
    return (mem() - start - overhead) / n


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    binary = Path(args[0] if args else ROOT / "build" / "unix" / "micropython")
    if not binary.exists() or not is_frozen_build(binary):
        print(f"no frozen ember build at {binary}: run ./build.sh unix")
        return 1
    platform, ember = import_cost(binary)
    print(f"unix port, -X heapsize={HEAPSIZE}:")
    print(f"  heap kept by importing asyncio, json, socket, select: {platform} B")
    print(f"  heap kept by importing frozen ember + demo app:       {ember} B (budget 6144)")
    print(
        f"  allocated per keep-alive GET /:                       {get_cost(binary):.0f} B "
        "(budget 2048)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
