"""The servers in a run: ember, the peers it is compared with, and the bare asyncio floor, each
described by what is frozen into its binary and what decides a rebuild."""

from paths import APPS, ROOT
from peers import MICRODOT_FILES, microdot_dir, tinyweb_dir
from progress import say

# The peers' manifests start from what the stock unix variant freezes, plus asyncio.
_STOCK = "include('$(PORT_DIR)/variants/manifest.py')\ninclude('$(MPY_DIR)/extmod/asyncio')\n"


class Server:
    """One server and its hello-world app, frozen into build/bench-<name>/micropython."""

    def __init__(self, name, label, manifest, sources, size_files, env=None):
        self.name, self.label = name, label
        self.module = "bench_" + name  # bench/apps/bench_<name>.py, started with main(port)
        self.manifest = manifest  # the FROZEN_MANIFEST text
        self.sources = sources  # files whose content decides a rebuild
        self.size_files = size_files  # {module name: path} for the frozen-size table
        self.env = env or {}  # make's environment, beyond os.environ
        self.build = ROOT / "build" / ("bench-" + name)
        self.binary = self.build / "micropython"


def _freeze(*apps):
    """Manifest lines freezing bench/apps/<app>.py at -O3."""
    return "".join(f"module({app + '.py'!r}, base_path={str(APPS)!r}, opt=3)\n" for app in apps)


def _ember():
    # ember's own manifest freezes ember and EMBER_APP; bench_shapes shares the binary.
    mods = sorted((ROOT / "modules" / "ember").glob("*.py"))
    apps = ["bench_ember", "bench_probe", "bench_shapes"]
    return Server("ember", "ember",
                  f"include({str(ROOT / 'manifest.py')!r})\n" + _freeze(*apps[1:]),
                  mods + [ROOT / "manifest.py"] + [APPS / (a + ".py") for a in apps],
                  {"ember/" + p.name: p for p in mods},
                  env={"EMBER_APP": str(APPS / "bench_ember.py")})


def _peer(name, pkg_dir, files, extra=""):
    apps = ["bench_" + name, "bench_probe"]
    return Server(name, name,
                  _STOCK + extra + f"package({pkg_dir.name!r}, files={files!r}, "
                  f"base_path={str(pkg_dir.parent)!r}, opt=3)\n" + _freeze(*apps),
                  [pkg_dir / f for f in files] + [APPS / (a + ".py") for a in apps],
                  {name + "/" + f: pkg_dir / f for f in files})


def _bare():
    apps = ["bench_bare", "bench_probe"]
    return Server("bare", "bare asyncio", _STOCK + _freeze(*apps),
                  [APPS / (a + ".py") for a in apps], {})


def servers(only, tinyweb):
    """The servers to measure, in table order; `only` is the --only list (None: all)."""
    out = [_ember()]
    md = microdot_dir()
    if md:
        out.append(_peer("microdot", md, [f for f in MICRODOT_FILES if (md / f).exists()]))
    else:
        say("microdot: not available (pip install microdot==2.7.0)")
    tw = tinyweb_dir(tinyweb)
    if tw:
        out.append(_peer("tinyweb", tw, ["__init__.py", "server.py"],
                         extra="require('logging')\n"))
    else:
        say("tinyweb: not available (pass --tinyweb PATH or set EMBER_BENCH_TINYWEB)")
    out.append(_bare())
    if only:
        keep = only.split(",")
        out = [s for s in out if s.name in keep]
    return out
