#!/usr/bin/env python3
"""The device runtime's footprint beside the server's, on the virtual board's firmware (a 32-bit
unix build, as the chips are; ./build.sh EMBER_VIRTUAL):

    .venv/bin/python bench/device.py [--firmware build/EMBER_VIRTUAL/micropython]

  1. frozen .mpy bytes (mpy-cross -O3, -march=xtensawin and xtensa) of the server (ember, as the
     firmware freezes it) and of each ember_device module;
  2. heap kept by importing, in a board's order: the server and the demo app, then the runtime
     (ember_device.runtime and admin: what station mode loads), then setup mode's (portal, dns);
     the simulated machine and network are imported first and not counted (C on a board);
  3. the virtual board booted to its ready line at -X heapsize=32k: free and used heap from its
     status endpoint, and its connection slots.

Not a test: the suite never runs it. bench/README.md records a run."""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from ember_host import virtual  # noqa: E402
from ember_host.freezecheck import compile_size  # noqa: E402

ARCHS = ("xtensawin", "xtensa")
STEPS = (  # (label, modules imported at this step)
    ("server + demo app (ember, ember.server, demo)", "ember,ember.server,demo"),
    ("runtime, station mode (ember_device.runtime, admin)",
     "ember_device.runtime,ember_device.admin"),
    ("setup mode (ember_device.portal, dns)", "ember_device.portal,ember_device.dns"),
)


def frozen():
    rows = []
    server = sorted((ROOT / "modules" / "ember").glob("*.py"))
    server = [p for p in server if p.name != "testing.py"]  # not frozen (manifest.py)
    rows.append(("ember (the server, %d modules)" % len(server),
                 [sum(compile_size(p, "ember/" + p.name, a, 3) for p in server) for a in ARCHS]))
    for p in sorted((ROOT / "modules" / "ember_device").glob("*.py")):
        rows.append(("ember_device/" + p.name,
                     [compile_size(p, "ember_device/" + p.name, a, 3) for a in ARCHS]))
    return rows


def imports(firmware):
    code = ["import gc, machine, network", "gc.collect(); a = gc.mem_alloc()"]
    for _, mods in STEPS:
        code += ["import " + mods, "gc.collect(); b = gc.mem_alloc(); print(b - a); a = b"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("rtc", "air"):
            Path(tmp, name).write_bytes(b"")
        env = {"MICROPYPATH": ".frozen", "EMBER_VIRTUAL_RTC": tmp + "/rtc",
               "EMBER_VIRTUAL_AIR": tmp + "/air"}
        out = subprocess.run([str(firmware), "-X", "heapsize=256k", "-c", "\n".join(code)],
                             env=env, capture_output=True, text=True, timeout=30)
    return [int(n) for n in out.stdout.split()]


def ready_at_32k(firmware):
    import httpx

    secret = "bench-secret-1"
    with tempfile.TemporaryDirectory() as tmp:
        img = Path(tmp) / "flash.img"
        cfg = {"wifi_ssid": "lab", "wifi_password": "secret123", "admin_secret": secret,
               "device_id": "bench", "http_port": 8791}
        virtual.write_image(img, cfg, mac=None)
        air = {"networks": [{"ssid": "lab", "password": "secret123", "rssi": -50}]}
        with virtual.VirtualBoard(firmware, img, air=air, heap="32k") as board:
            board.power_on()
            board.expect(r"^ember: ready ", timeout=30)
            st = httpx.get("http://127.0.0.1:8791/_ember/status", timeout=5,
                           headers={"Authorization": "Bearer " + secret}).json()
            slots = [m for line in board.lines() if (m := re.search(r"heap for (\d+) of", line))]
    return st, slots[0][1] if slots else "all"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firmware", default=virtual.FIRMWARE)
    args = parser.parse_args()
    print("| frozen .mpy -O3 | xtensawin (ESP32) | xtensa (ESP8266) |\n|---|---:|---:|")
    rows = frozen()
    for name, sizes in rows:
        print("| %s | %s |" % (name, " | ".join(f"{s:,}" for s in sizes)))
    device_rows = [s for n, s in rows if n.startswith("ember_device/")]
    total = [sum(col) for col in zip(*device_rows, strict=True)]
    print("| ember_device, all modules | %s |" % " | ".join(f"{s:,}" for s in total))
    print("\n| heap kept by importing (32-bit virtual board) | bytes |\n|---|---:|")
    for (label, _), kept in zip(STEPS, imports(args.firmware), strict=True):
        print(f"| {label} | {kept:,} |")
    st, slots = ready_at_32k(args.firmware)
    print(f"\nAt the ready line with -X heapsize=32k: heap_free {st['heap_free']:,}, heap_used "
          f"{st['heap_used']:,}, connection slots {slots} of 8.")
    print(json.dumps({"status": st}, sort_keys=True))


if __name__ == "__main__":
    main()
