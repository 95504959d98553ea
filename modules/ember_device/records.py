"""What the update modules share: their records on the filesystem (small JSON files, written
to a temporary name and renamed, so a reset leaves the old record or the new one), the refusal
they raise, and how they read an upload's body.

Apart from ota and appupdate so that the runtime can see whether a record exists without
importing either: a board that was never updated never loads them (heap an ESP8266 keeps).
"""

import json
import os

OTA = "/.ember-ota.json"  # the firmware update in progress, or the last one's outcome
APP = "/.ember-app.json"  # the uploaded app's first start: pending, trying, good, failed


class Refused(Exception):
    """An update refused: `status` (4xx, or 5xx for the device's own failure) and why. Nothing
    that boots was changed."""

    def __init__(self, status, reason):
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


def read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write(path, record):
    """`record` as JSON at `path`: a temporary file first, then a rename over the old (atomic on
    LittleFS2 and POSIX). Also how the config is saved."""
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.rename(path + ".tmp", path)


async def fill(body, buf, want):
    """Read exactly `want` bytes of the body into buf[:want]: a read returns what has arrived,
    which may be a byte (a TCP segment that ends there), and each check wants a whole block. A
    cut upload raises from the reader (ember: HTTPError 400 "body ended early")."""
    mv = memoryview(buf)
    got = 0
    while got < want:
        n = await body.readinto(mv[got:want])
        if not n:
            raise Refused(400, "the upload ended early")
        got += n
    return got
