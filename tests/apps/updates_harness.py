"""A boot of a device, reduced to the update parts, for tests/test_updates.py: CPython or the
MicroPython unix port, over the SIMULATED esp32 flash (boards/EMBER_VIRTUAL/sim/esp32.py).

    updates_harness.py STATE_DIR PORT HEALTHY_MS

Each process start is a boot: updates.boot(), the app (uploaded or "frozen", i.e. STATE_DIR/frozen
on sys.path), /_ember from admin.py with the update endpoints, healthy after HEALTHY_MS. A reboot
request ends the process (exit status 0); the test, playing the launcher, starts the next boot.
The slots hold no real firmware here, so the firmware version reported is the one in the running
slot's app descriptor. The runtime itself (network, watchdog) runs on the virtual board tests.
"""

import sys
import time

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

state, port, healthy_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, state)  # ember_build.py: the name of the app, the version of this firmware
sys.path.append(state + "/frozen")  # the app as frozen in the firmware: last, as .frozen is

from ember import App  # noqa: E402
from ember_device import admin, appupdate, ota, records, safemode, updates  # noqa: E402

appupdate.DIR = state
records.APP = state + "/app.json"
records.OTA = state + "/ota.json"
safemode.FILE = state + "/boots"


class Device:
    def __init__(self):
        import esp32

        head = bytearray(ota.BLOCK)
        esp32.Partition(esp32.Partition.RUNNING).readblocks(0, head)
        self.firmware = ota.image_info(head)["version"]
        self.config = {"admin_secret": "harness-secret-1"}
        self.mode = "station"
        self.safe_mode = False
        self.update = {}
        self.app = None
        self.reset_cause = "power"

    def status(self):
        out = {"board": "EMBER_VIRTUAL", "firmware": self.firmware, "app": self.app,
               "uptime_s": time.ticks_diff(time.ticks_ms(), started) // 1000
               if hasattr(time, "ticks_ms") else int(time.monotonic() - started)}
        out.update(updates.status(self))
        return out

    def reboot(self, reason):
        print("ember: reboot reason=" + reason)
        asyncio.create_task(_stop())


async def _stop():
    await asyncio.sleep(0.2)
    server.shutdown()


started = time.ticks_ms() if hasattr(time, "ticks_ms") else time.monotonic()
device = Device()
updates.boot(device)
if device.safe_mode:
    server = App()
else:
    try:
        module = updates.load_app(device)
        server = module.app
        device.app = getattr(module, "__version__", None)
    except Exception as e:  # as runtime._app: the device endpoints stay
        updates.app_failed(device, "%s %s" % (type(e).__name__, e))
        server = App()
admin.install(server, device)


def ready(bound):
    print("EMBER READY %d" % bound)


async def main():
    asyncio.create_task(updates.healthy_after(device, healthy_ms))
    await server.serve("127.0.0.1", port, ready=ready)


asyncio.run(main())
