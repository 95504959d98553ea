"""Running esptool (the version pinned in pyproject.toml) as a subprocess, or printing it."""

import shlex
import subprocess
import sys


def command(*args):
    return [sys.executable, "-m", "esptool", *args]


def run(args, dry_run=False, capture=False):
    """Run esptool with `args`; under dry_run print the command line instead.

    Raises RuntimeError carrying esptool's own last line when it fails.
    """
    cmd = command(*args)
    if dry_run:
        print(shlex.join(cmd))
        return ""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr + proc.stdout).splitlines() or ["no output"]
        errors = [line for line in lines if "error" in line.lower()]
        raise RuntimeError(f"esptool failed: {(errors or lines)[-1].strip()}")
    return proc.stdout if capture else ""


def merge(chip, out, parts, flash_size, dry_run=False):
    """merge-bin `parts` ({offset: path}) into one image flashed at 0x0.

    `flash_size` goes into the image header: the ESP8266 build's says 1MB whatever the module has,
    and its SDK places its parameter sectors from that size.
    """
    args = ["--chip", chip, "merge-bin", "-o", str(out), "--flash-size", flash_size]
    for offset in sorted(parts):
        args += [f"{offset:#x}", str(parts[offset])]
    run(args, dry_run=dry_run)
