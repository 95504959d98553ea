# ruff: noqa: F821 - manifestfile.py provides include(), package(), module() and freeze()
# Freezes ember and one application into MicroPython firmware: the FROZEN_MANIFEST of every ember
# board (boards/*), for the esp32, esp8266 and unix ports.
#
#   EMBER_APP      the application module (default examples/demo.py), frozen under its own name
#   EMBER_OPT      mpy-cross optimisation level (default 3: no asserts, no line numbers)
#   EMBER_VERSION  frozen as ember_build.VERSION (default: git describe --tags --always --dirty)
#
# ember_build also names the board (the directory of its ember-board.json: $(BOARD_DIR) on the ESP
# ports; a unix variant's manifest passes `board=` to include(), plain unix builds are EMBER_UNIX)
# and its setup button, for the device runtime (ember_device).
#
# manifestfile.py runs this with the working directory set to this file's directory and without
# __file__, so relative paths below are relative to the repository root.
import json
import os
import subprocess

_top = os.getcwd()
_app = os.path.abspath(os.environ.get("EMBER_APP") or os.path.join("examples", "demo.py"))
_opt = int(os.environ.get("EMBER_OPT", "3"))

# The manifest API exposes $(PORT_DIR) only through path resolution.
_port = os.path.basename(include.__self__._resolve_path("$(PORT_DIR)"))
_port_manifests = {
    "esp32": "$(PORT_DIR)/boards/manifest.py",
    "esp8266": "boards/EMBER_ESP8266/manifest.py",
    "unix": "$(PORT_DIR)/variants/manifest.py",
}
if _port not in _port_manifests:
    raise ValueError("ember has no manifest for the %r port" % _port)


def _version():
    v = os.environ.get("EMBER_VERSION")
    if v:
        return v
    try:
        return subprocess.run(
            ["git", "-C", _top, "describe", "--tags", "--always", "--dirty"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _board():
    options.defaults(board=None)
    if options.board:
        return options.board
    name = os.path.basename(include.__self__._resolve_path("$(BOARD_DIR)").rstrip("/"))
    return name if os.path.isfile(_board_file(name)) else "EMBER_UNIX"


def _board_file(name):
    return os.path.join(_top, "boards", name, "ember-board.json")


def _write_version_module():
    # Generated (never committed): the firmware reports the version it was built from.
    # A folder per board and app: builds of others may run at the same time.
    board = _board()
    app = os.path.splitext(os.path.basename(_app))[0]
    gen = os.path.join(_top, "build", "gen", board + "-" + app)
    path = os.path.join(gen, "ember_build.py")
    with open(_board_file(board)) as f:
        setup_pin = json.load(f).get("setup_pin")
    text = "VERSION = %r\nAPP = %r\nBOARD = %r\nSETUP_PIN = %r\n" % (
        _version(), app, board, setup_pin
    )
    os.makedirs(gen, exist_ok=True)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:  # keep the mtime when unchanged so make does not refreeze
        with open(path, "w") as f:
            f.write(text)
    return gen


def _ember_files():
    """Every module of the ember package but `ember.testing`, the in-process test client: it
    runs on a host (CPython, or MicroPython's unix and webassembly builds), never on a device,
    so firmware does not pay flash for it."""
    root = os.path.join(_top, "modules", "ember")
    names = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if name.endswith(".py") and path != "testing.py":
                names.append(path)
    return sorted(names)


include(_port_manifests[_port])
include("$(MPY_DIR)/extmod/asyncio")
package("ember", files=_ember_files(), base_path="modules", opt=_opt)
package("ember_device", base_path="modules", opt=_opt)  # the device runtime: ember's boards only
module("ember_build.py", base_path=_write_version_module(), opt=_opt)
module(os.path.basename(_app), base_path=os.path.dirname(_app), opt=_opt)
if _port != "unix":
    module("main.py", base_path="boards", opt=_opt)
