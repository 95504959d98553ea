"""App-only updates (every board, ESP8266 included): a new application module (`.py`, or `.mpy`
compiled for this board's architecture) uploaded to the filesystem, which the runtime then
imports instead of the frozen app, falling back to the frozen app when it does not start.

The file lands at DIR/<app>.py (or .mpy), where a frozen app's relative folders are too, so
`App(__name__)` finds the same static files either way. It is written to a temporary name,
checked (size, SHA-256 declared by the client, .mpy version and architecture), and renamed into
place: a cut upload or a power loss leaves the previous app whole.

Its record (records.APP) follows it through its first start: "pending" (uploaded) → "trying" (being
imported) → "good" (the device reached healthy with it). A boot that finds "trying" knows the
last start with it never got there (a crash, a hang the watchdog ended): it sets the upload
aside as <file>.bad, marks it "failed" with the reason, and imports the frozen app.
"""

import hashlib
import os
import sys
from binascii import hexlify

from .records import Refused
from . import records

DIR = "/"
BLOCK = 1024
SPARE = 8192  # room left on the filesystem after an upload (config writes, logs)
_EXTS = (".py", ".mpy")



def _path(name, ext):
    return DIR.rstrip("/") + "/" + name + ext


def _remove(path):
    try:
        os.remove(path)
    except OSError:  # not there: nothing to remove
        pass



def record():
    """The uploaded app's record ({"state", "sha256", "file", ...}), or None: for status."""
    return records.read(records.APP)


def _kind(head):
    """".mpy" or ".py" from the first bytes; Refused(422) for an .mpy this firmware can't load.

    An .mpy starts with "M" and its version (6 since v1.22), a control byte; source that starts
    with "M" (`MAX = 3`) has text there."""
    if head[:1] != b"M" or (len(head) > 1 and head[1] >= 9):
        return ".py"
    mpy = getattr(sys.implementation, "_mpy", None)
    if mpy is None:
        raise Refused(422, "this runtime does not load .mpy files: send the .py")
    if len(head) < 4 or head[1] != mpy & 0xFF:
        raise Refused(422, ".mpy version %d; this firmware loads version %d (mpy-cross v1.28)"
                      % (head[1] if len(head) > 1 else -1, mpy & 0xFF))
    arch = head[2] >> 2
    if arch and (arch != mpy >> 10 or head[2] & 3 != mpy >> 8 & 3):
        raise Refused(422, ".mpy with native code for architecture %d.%d; this board is %d.%d "
                      "(mpy-cross -march)" % (arch, head[2] & 3, mpy >> 10, mpy >> 8 & 3))
    return ".mpy"


def _room():
    try:
        st = os.statvfs(DIR)
    except (OSError, AttributeError):  # no statvfs: the write itself will fail when full
        return None
    return st[0] * st[3] - SPARE


async def receive(body, length, sha256, name):
    """Stream `length` bytes of `body` into the app module `name`; returns its record. The new
    file replaces the old only once its size and SHA-256 (hex) match."""
    room = _room()
    if room is not None and length > room:
        raise Refused(413, "the app is %d bytes; the filesystem has room for %d" % (length, room))
    if length == 0:
        raise Refused(422, "an empty app")
    tmp = _path(name, ".tmp")
    buf = bytearray(BLOCK)
    mv = memoryview(buf)
    h = hashlib.sha256()
    kind = None
    done = 0
    try:
        with open(tmp, "wb") as f:
            while done < length:
                n = await records.fill(body, buf, min(BLOCK, length - done))
                if kind is None:  # from the whole first block: a read may bring one byte
                    kind = _kind(buf[:n])
                h.update(mv[:n])
                f.write(mv[:n])
                done += n
        got = hexlify(h.digest()).decode()
        if got != sha256:
            raise Refused(422, "SHA-256 mismatch: declared %s, received %s" % (sha256, got))
    except BaseException:  # a refusal, a cut upload, a full filesystem: the old app stays
        _remove(tmp)
        raise
    for ext in _EXTS:
        if ext != kind:
            _remove(_path(name, ext))  # a .py would shadow a new .mpy
    os.rename(tmp, _path(name, kind))
    rec = {"state": "pending", "sha256": sha256, "file": name + kind, "size": length}
    records.write(records.APP, rec)
    return rec


def _fail(rec, reason):
    path = _path(rec["file"], "")
    _remove(path + ".bad")
    try:
        os.rename(path, path + ".bad")
    except OSError:  # already gone: the record alone says what happened
        pass
    rec["state"] = "failed"
    rec["reason"] = reason
    records.write(records.APP, rec)


def load(name):
    """The app module to run: the uploaded one when it is there and has not failed, else the
    frozen one. Returns (module, why) where `why` is None, or the reason the upload was set
    aside at this boot (for the console and status)."""
    rec = records.read(records.APP)
    why = None
    if rec is not None and rec["state"] in ("pending", "trying", "good"):
        if rec["state"] == "trying":
            why = "did not reach healthy at its first start"
        else:
            if rec["state"] == "pending":
                rec["state"] = "trying"
                records.write(records.APP, rec)
            sys.path.insert(0, DIR)
            try:
                return __import__(name), None
            except Exception as e:  # anything the app's module-level code raises
                why = "import failed: %s: %s" % (type(e).__name__, e)
            finally:
                sys.path.remove(DIR)
        sys.modules.pop(name, None)
        _fail(rec, why)
    return __import__(name), why


def failed(reason):
    """The uploaded app crashed while starting (after its import): set it aside now, so the
    next boot runs the frozen app. True when there was one to set aside."""
    rec = records.read(records.APP)
    if rec is not None and rec["state"] in ("trying", "good"):
        _fail(rec, reason)
        return True
    return False


def healthy():
    """The device reached healthy: an uploaded app being tried is kept from now on (True)."""
    rec = records.read(records.APP)
    if rec is not None and rec["state"] == "trying":
        rec["state"] = "good"
        records.write(records.APP, rec)
        return True
    return False
