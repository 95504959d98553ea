"""The server under wrk: requests/s at 10 connections, and overload (a small heap, 100 clients)
followed by sequential GETs that show whether it still serves."""

import re
import subprocess
import time

from client import Client, hello
from process import free_port, start, start_cpython


def wrk(port, conns, secs, threads=1, timeout=None):
    """wrk against GET /: requests/s, completed requests, socket errors, non-2xx answers."""
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs]
    if timeout:
        cmd += ["--timeout", "%ds" % timeout]
    cmd.append("http://127.0.0.1:%d/" % port)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    text = r.stdout + r.stderr
    res = {"cmd": " ".join(cmd[:-1]) + " http://127.0.0.1:PORT/"}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", text)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    keys = ("connect", "read", "write", "timeout")
    res["errors"] = dict(zip(keys, map(int, m.groups()), strict=True)) if m else {}
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    res["non2xx"] = int(m.group(1)) if m else 0
    return res


def throughput(s, secs, module=None):
    """wrk -t1 -c10 against s's hello world, or against `module` on the CPython running the
    bench (s None), after one GET / that checks it answers Hello and tells its HTTP version and
    whether it closes each connection."""
    port = free_port()
    p, ok = start(s, port) if module is None else start_cpython(port, module)
    if not ok:
        p.stop()
        return {"error": "did not start: " + p.output()[-300:]}
    try:
        c = Client(port, 5)
        version, close = hello(c)
        c.close()  # not held open through the wrk run
        return dict(wrk(port, 10, secs), http=version, closes=close)
    finally:
        p.stop()


def overload(s, secs, heap="24k", clients=100, config=""):
    """s with `-X heapsize=heap` under `clients` wrk connections for `secs`, then 10 sequential
    GETs on new connections: what it served, whether it lives and answers afterwards."""
    port = free_port()
    p, ok = start(s, port, heap=heap, config=config)
    res = {"heap": heap, "clients": clients, "secs": secs, "config": config}
    if not ok:
        p.stop()
        res.update(started=False, alive=False, after_ok=0,
                   note=" ".join(p.output().strip().splitlines()[-1:])[:200])
        return res
    try:
        w = wrk(port, clients, secs, threads=2, timeout=2)
        res.update(started=True, served=w["requests"], non2xx=w["non2xx"], errors=w["errors"],
                   cmd=w["cmd"])
        time.sleep(0.5)
        res["alive_after_load"] = p.alive()
        okn = 0
        for _ in range(10):
            try:
                c = Client(port, 3)
                status, body, _, _ = c.get("/")
                c.close()
                okn += status == 200 and body == b"Hello"
            except (OSError, EOFError, ValueError, RuntimeError):
                pass
        res["after_ok"] = okn
        res["alive"] = p.alive()
    finally:
        rc = p.stop()
        out = p.output()
        res["exit"] = rc if not res.get("alive", True) else None
        res["memoryerrors_logged"] = out.count("MemoryError")
        res["log_tail"] = out.strip().splitlines()[-3:]
    return res
