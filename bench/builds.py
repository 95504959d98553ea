"""One unix-port binary per server, built as the EMBER_UNIX variant `./build.sh unix` builds
(boards/EMBER_UNIX/mpconfigvariant.mk holds its options), and skipped when nothing it is made
from has changed: a build takes minutes on the 2-core machine."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from paths import ROOT
from progress import say

VARIANT = ROOT / "boards" / "EMBER_UNIX"
FLAGS = ["VARIANT_DIR=" + str(VARIANT), "STRIP="]  # STRIP= keeps symbols for callgrind


def find_micropython(arg):
    """The MicroPython tree to build from (--micropython, $EMBER_MPY_DIR, micropython/, the tree
    ./build.sh unix unpacked); None when there is none."""
    for c in (arg, os.environ.get("EMBER_MPY_DIR"), ROOT / "micropython",
              ROOT / "build" / "micropython-src" / "micropython"):
        if c and (Path(c) / "py" / "mpconfig.h").is_file():
            return Path(c).resolve()
    return None


def _identity(mpy_dir):
    """The commit of a git tree, else the SHA-256 of the archive build.sh unpacked it from."""
    if (mpy_dir / ".git").exists():
        return subprocess.run(["git", "-C", str(mpy_dir), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout
    stamp = mpy_dir.parent / ".sha256"
    return stamp.read_text() if stamp.exists() else str(mpy_dir)


def _stamp(s, mpy_dir):
    """The hash of everything the binary is made from."""
    h = hashlib.sha256(s.manifest.encode() + repr(sorted(s.env.items())).encode()
                       + " ".join(FLAGS).encode() + (VARIANT / "mpconfigvariant.mk").read_bytes())
    for f in s.sources:
        h.update(str(f).encode() + f.read_bytes())
    h.update(_identity(mpy_dir).encode())
    return h.hexdigest()


def build(s, mpy_dir):
    """Build s.binary unless build/bench-<name>/bench-stamp says it is up to date."""
    s.build.mkdir(parents=True, exist_ok=True)
    stamp, digest = s.build / "bench-stamp", _stamp(s, mpy_dir)
    if s.binary.exists() and stamp.exists() and stamp.read_text() == digest:
        say(f"build {s.name}: up to date ({s.binary.relative_to(ROOT)})")
        return
    manifest = s.build / "bench-manifest.py"
    manifest.write_text(s.manifest)
    jobs = "-j%d" % (os.cpu_count() or 2)
    if not (mpy_dir / "mpy-cross" / "build" / "mpy-cross").exists():
        subprocess.run(["make", "-C", str(mpy_dir / "mpy-cross"), jobs], check=True)
    cmd = (["make", "-C", str(mpy_dir / "ports" / "unix"), jobs] + FLAGS
           + ["FROZEN_MANIFEST=" + str(manifest), "BUILD=" + str(s.build)])
    say(f"build {s.name}: " + " ".join(f"{k}={v}" for k, v in s.env.items()) + " "
        + " ".join(cmd))
    # An archive tree has no git metadata: name its version, or makeversionhdr asks ember's git.
    version = {} if (mpy_dir / ".git").exists() else {"MICROPY_GIT_TAG": "v1.28.0"}
    log = s.build / "bench-build.log"
    with open(log, "w") as f:
        r = subprocess.run(cmd, env={**os.environ, **version, **s.env}, stdout=f,
                           stderr=subprocess.STDOUT)
    if r.returncode:
        sys.exit(f"build {s.name} failed, see {log}:\n" + log.read_text()[-3000:])
    stamp.write_text(digest)
