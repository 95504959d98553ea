"""Where the servers ember is compared with come from: microdot from the venv (PyPI 2.7.0),
tinyweb from a path the user gives, copied into bench/peers/ because it is never committed."""

import importlib.util
import os
import subprocess
import tarfile
from pathlib import Path

from paths import PEERS

# microdot modules that are frozen (those that import on MicroPython; asgi/wsgi/jinja are CPython).
MICRODOT_FILES = ["__init__.py", "microdot.py", "helpers.py", "sse.py", "websocket.py",
                  "multipart.py", "cors.py", "auth.py", "session.py", "utemplate.py"]


def microdot_dir():
    """microdot's package directory: $EMBER_BENCH_MICRODOT, else the installed package."""
    env = os.environ.get("EMBER_BENCH_MICRODOT")
    if env:
        return Path(env)
    try:
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
        text = _tinyweb_server(c)
        if text:
            dest.mkdir(parents=True, exist_ok=True)
            if (dest / "server.py").resolve() != c.resolve():
                (dest / "server.py").write_bytes(text)
            (dest / "__init__.py").write_text("from .server import webserver\n")
            return dest
    return None


def _tinyweb_server(c):
    """tinyweb's server.py read from an archive, a file, a checkout or a bare git directory."""
    if c.is_file() and tarfile.is_tarfile(c):
        with tarfile.open(c) as tar:
            member = next((m for m in tar.getmembers()
                           if m.name.endswith("tinyweb/server.py")), None)
            return tar.extractfile(member).read() if member else None
    if c.is_file():
        return c.read_bytes()
    if (c / "tinyweb" / "server.py").is_file():
        return (c / "tinyweb" / "server.py").read_bytes()
    if (c / "server.py").is_file():
        return (c / "server.py").read_bytes()
    if c.is_dir() and (c / "HEAD").is_file():  # a bare git directory (the fetch mirror)
        r = subprocess.run(["git", "--git-dir", str(c), "show", "HEAD:tinyweb/server.py"],
                           capture_output=True)
        return r.stdout if r.returncode == 0 else None
    return None
