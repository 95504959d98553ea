"""Updates in the runtime: the hooks runtime.py calls (boot, app loading, healthy) and the
endpoints admin.py adds under /_ember (behind the admin secret). The work itself is in ota
(firmware images), appupdate (the app module) and safemode (the boot counter); this module
ties them to HTTP, the console and the status.

    POST /_ember/firmware        body: micropython.bin   X-Ember-SHA256: <hex>  [X-Ember-Version]
    POST /_ember/app             body: <app>.py or .mpy  X-Ember-SHA256: <hex>
    POST /_ember/safe-mode/exit  leave safe mode (reboots)

An accepted upload answers 200, leaves safe mode and reboots; a refused one answers 4xx with
{"error": reason} and changes nothing that boots.
"""

import asyncio

import ember_build

from . import records, safemode
from .console import say

# ota and appupdate are imported where they are needed: at boot only when their record exists
# (a board that was never updated never loads them), else when an upload arrives.

_busy = []  # one upload at a time: both kinds write where the next boot reads


def boot(device):
    """First thing at boot: count it, and find out what became of the last firmware update.
    Sets device.safe_mode (the app must not run) and device.update."""
    device.safe_mode = safemode.boot_started(count=device.reset_cause != "soft")
    device.update = {}
    if records.read(records.OTA) is not None:
        from . import ota

        try:
            rec, rolled_back = ota.boot_check()
        except Exception as e:  # a record this firmware cannot read (another version wrote it):
            # said, and the boot goes on; raised, it would reset the board, which reads it again
            say("error", "where=update reason=%s %s" % (type(e).__name__, e))
        else:
            device.update["firmware"] = rec
            if rolled_back:
                say("rollback", "running=%s from=%s" % (rec["running"], rec["rolled_back_from"]))
    if device.safe_mode:
        say("safe-mode", "boots=%d reason=%d boots in a row did not reach healthy"
            % (safemode.state()["unhealthy_boots"], safemode.LIMIT))


def load_app(device):
    """The app module (the uploaded one, or the frozen one when that fails to import)."""
    if records.read(records.APP) is None:
        return __import__(ember_build.APP)
    from . import appupdate

    module, why = appupdate.load(ember_build.APP)
    rec = appupdate.record()
    if rec is not None:
        device.update["app"] = rec
    if why:
        say("app-fallback", "file=%s reason=%s" % (rec["file"], why))
    return module


def app_failed(device, reason):
    """The app crashed while starting: an uploaded one is set aside, and the board reboots into
    the frozen app (a frozen app that fails is left to the runtime)."""
    if records.read(records.APP) is None:
        return
    from . import appupdate

    if appupdate.failed(reason):
        say("app-fallback", "file=%s reason=%s" % (appupdate.record()["file"], reason))
        device.reboot("app-fallback")


async def healthy_after(device, ms):
    """A task started with the server: healthy() once it has served for `ms`."""
    await asyncio.sleep(ms / 1000)
    try:
        healthy(device)
    except Exception as e:  # a full filesystem: said, and the next healthy boot tries again
        say("error", "where=healthy reason=%s %s" % (type(e).__name__, e))


def healthy(device):
    """Served healthy_ms: the boot counter starts again; in station mode the running firmware
    and an uploaded app being tried are kept (a firmware that cannot join is not)."""
    safemode.healthy()
    if device.mode != "station" or device.safe_mode:
        return
    if records.read(records.APP) is not None:
        from . import appupdate

        if appupdate.healthy():
            device.update["app"] = appupdate.record()
    if records.read(records.OTA) is None:
        return  # no update to confirm (a firmware flashed over serial is not pending)
    from . import ota

    try:
        rec = ota.healthy()
    except records.Refused:  # no firmware updates on this board
        return
    if rec is not None and rec["state"] == "valid" and device.update.get("firmware") != rec:
        device.update["firmware"] = rec
        say("update-valid", "version=%s" % rec["version"])


def status(device):
    """The status endpoint's fields for updates."""
    out = {"safe_mode": device.safe_mode}
    if device.update:
        out["update"] = device.update
    return out


def _declared(req):
    length = req.content_length
    if not length:
        return None, None, (411, "Content-Length required (the size is checked before writing)")
    sha = req.headers.get("X-Ember-SHA256")
    if not sha or len(sha) != 64:
        return None, None, (400, "X-Ember-SHA256 required: the image's SHA-256, 64 hex digits")
    return length, sha.lower(), None


async def _upload(req, device, kind, receive):
    length, sha, problem = _declared(req)
    if problem is None and _busy:
        problem = (409, "another update is being received")
    if problem is not None:
        say("update-refused", "kind=%s status=%d reason=%s" % (kind, problem[0], problem[1]))
        return {"error": problem[1]}, problem[0]
    _busy.append(kind)
    try:
        result = await receive(req.stream(), length, sha)
    except records.Refused as e:
        say("update-refused", "kind=%s status=%d reason=%s" % (kind, e.status, e.reason))
        return {"error": e.reason}, e.status
    except Exception as e:  # a cut upload (ember's 400), a flash or filesystem error
        say("update-refused", "kind=%s reason=%s %s" % (kind, type(e).__name__, e))
        raise
    finally:
        _busy.remove(kind)
    safemode.leave()
    say("update", "kind=%s sha256=%s size=%d" % (kind, sha[:16], length))
    device.reboot("update")
    result["rebooting"] = True
    return result


async def firmware(req, device):
    """POST /_ember/firmware: an application image into the next OTA slot, then a reboot."""

    async def receive(body, length, sha):
        from . import ota

        part = ota.next_slot()
        chip = ota.running()[1]
        info = await ota.receive(body, length, sha, part, chip)
        version = req.headers.get("X-Ember-Version") or info["version"] or sha[:12]
        ota.set_boot(part, sha, version, device.firmware)
        return {"slot": part.info()[4], "version": version, "sha256": sha}

    return await _upload(req, device, "firmware", receive)


async def app(req, device):
    """POST /_ember/app: the app module (.py or .mpy), then a reboot."""

    async def receive(body, length, sha):
        from . import appupdate

        return await appupdate.receive(body, length, sha, ember_build.APP)

    return await _upload(req, device, "app", receive)


def leave_safe_mode(req, device):
    """POST /_ember/safe-mode/exit."""
    safemode.leave()
    device.reboot("safe-mode-exit")
    return {"safe_mode": False, "rebooting": True}
