"""ember-update: send a firmware release or a new app to a running device over HTTP, then wait
for it to come back and check what it runs.

    ember-update DEVICE --release dist/EMBER_ESP32     # micropython.bin, checked against the
                                                       # release's manifest.json
    ember-update DEVICE --firmware micropython.bin     # an app image without a release
    ember-update DEVICE --app app.py                   # app-only (every board): .py or .mpy

DEVICE is host, host:port or http://host:port/. The admin secret comes from EMBER_ADMIN_SECRET
or a prompt, never from an argument (the process list shows those). What the device verifies
(docs/updates.md) is checked here first as well, so a wrong file is refused before any byte is
sent: the board, the image header and chip, the SHA-256 the manifest lists. The upload goes with
`Expect: 100-continue`, so a device that refuses it (too large, busy, wrong secret) says so
before the body.
"""

import argparse
import getpass
import hashlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from ember_device import ota  # the image checks the device runs: one implementation

from .target import ProvisionError, Target

SECRET_ENV = "EMBER_ADMIN_SECRET"
BLOCK = 4096


class UpdateError(Exception):
    pass


# -- HTTP, with Expect: 100-continue and a progress callback --------------------------------------


def _read_response(f):
    """(status, body) of one response from the socket file `f`; interim 1xx are returned too."""
    line = f.readline()
    if not line:
        raise ConnectionError("the device closed the connection without an answer")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    length = None
    while True:
        h = f.readline().decode("latin-1").strip()
        if not h:
            break
        name, _, value = h.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if 100 <= status < 200:
        return status, b""
    body = f.read(length) if length is not None else f.read()
    return status, body


def request(addr, method, path, secret, body=None, headers=None, progress=None, timeout=10):
    """One HTTP/1.1 request on its own connection: (status, body bytes). `body` is bytes; with
    it the head asks for 100-continue, and a final answer before that ends the request."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {addr[0]}", f"Authorization: Bearer {secret}",
            "Connection: close"]
    for name, value in (headers or {}).items():
        head.append(f"{name}: {value}")
    if body is not None:
        head += [f"Content-Length: {len(body)}", "Expect: 100-continue"]
    with socket.create_connection(addr, timeout=timeout) as s:
        f = s.makefile("rb")
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if body is not None:
            status, answer = _read_response(f)
            if status != 100:
                return status, answer  # refused before the body
            sent = 0
            try:
                while sent < len(body):
                    sent += s.send(body[sent : sent + BLOCK])
                    if progress:
                        progress(sent, len(body))
            except OSError as e:  # the device may still have answered why it stopped reading
                try:
                    return _read_response(f)
                except (OSError, ValueError):
                    raise ConnectionError(f"connection lost after {sent} bytes: {e}") from None
            s.settimeout(max(timeout, 60))  # the device verifies the image before it answers
        return _read_response(f)


class Device:
    """A device's address and secret; `get`/`post` answer (status, decoded JSON or text)."""

    def __init__(self, target, secret):
        url = urlsplit(target if "//" in target else "http://" + target)
        self.addr = (url.hostname, url.port or 80)
        self.secret = secret

    def _call(self, method, path, **kw):
        status, body = request(self.addr, method, "/_ember" + path, self.secret, **kw)
        try:
            data = json.loads(body)
        except ValueError:
            data = body.decode(errors="replace").strip()
        if status == 401:
            raise UpdateError("the device refused the admin secret")
        if status == 403:
            raise UpdateError(f"the device has no admin secret provisioned ({data})")
        return status, data

    def status(self):
        status, data = self._call("GET", "/status")
        if status != 200:
            raise UpdateError(f"GET /_ember/status: {status} {data}")
        return data

    def post(self, path, body, headers, progress):
        return self._call("POST", path, body=body, headers=headers, progress=progress)


# -- what to send --------------------------------------------------------------------------------


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Payload:
    """What goes to the device: the endpoint, the bytes, their hash, the version it declares."""

    def __init__(self, kind, data, version=None):
        self.kind = kind
        self.data = data
        self.sha256 = sha256(data)
        self.version = version

    @property
    def path(self):
        return "/firmware" if self.kind == "firmware" else "/app"


def _image(data, name):
    try:
        return ota.image_info(data[: ota.HEAD])
    except ota.Refused as e:
        raise UpdateError(f"{name}: {e.reason}") from None


def from_release(release, board):
    """The OTA app image of a release (dist/BOARD, or a GitHub release's manifest: read as
    ember-provision reads it, target.Target), checked against its manifest and `board` (what the
    device says it is)."""
    try:
        rel = Target.release(release)
    except ProvisionError as e:
        raise UpdateError(str(e)) from None
    if rel.board != board:
        raise UpdateError(f"the release is for {rel.board}; the device is {board}")
    entry = rel.ota
    if entry is None:
        raise UpdateError(f"the release lists no OTA image: {board} has no second app slot (or "
                          f"the release predates OTA entries: ./build.sh release {board}); "
                          "update its app with --app")
    path = rel.release_file(entry["file"])
    data = path.read_bytes()
    if sha256(data) != entry["sha256"] or len(data) != entry["size"]:
        raise UpdateError(f"{path} differs from manifest.json (SHA-256 "
                          f"{sha256(data)[:16]}…, listed {entry['sha256'][:16]}…)")
    if len(data) > entry["slot_size"]:
        raise UpdateError(f"{entry['file']} is {len(data)} bytes, larger than the OTA slot "
                          f"({entry['slot_size']})")
    info = _image(data, entry["file"])
    if ota.chip_name(info["chip_id"]) != rel.chip:
        raise UpdateError(f"{entry['file']} is for {ota.chip_name(info['chip_id'])}, "
                          f"the release for {rel.chip}")
    return Payload("firmware", data, rel.version)


def from_firmware(path, version=None):
    """An app image file; `version`, if given, is what the device must report once it runs it
    (an image's own descriptor version need not be: MicroPython's builds leave it empty)."""
    data = Path(path).read_bytes()
    _image(data, path)
    return Payload("firmware", data, version)


def from_app(path):
    path = Path(path)
    if path.suffix not in (".py", ".mpy"):
        raise UpdateError(f"{path}: an app is a .py or .mpy module")
    return Payload("app", path.read_bytes())


# -- the update ----------------------------------------------------------------------------------


def progress_bar(stream=sys.stderr):
    """A progress callback: a bar redrawn in place on a terminal, else a line per quarter."""
    tty = stream.isatty()
    shown = [-1]

    def update(sent, total):
        pct = sent * 100 // total
        if tty:
            n = pct * 30 // 100
            stream.write(f"\r  [{'#' * n}{'.' * (30 - n)}] {pct:3d}%  {sent // 1024}/"
                         f"{total // 1024} KiB")
            if sent == total:
                stream.write("\n")
        elif pct // 25 > shown[0]:
            shown[0] = pct // 25
            stream.write(f"  {pct}% ({sent} of {total} bytes)\n")
        stream.flush()

    return update


def _record(payload, st):
    return ((st.get("update") or {}).get(payload.kind)) or {}


def wait_back(device, payload, timeout, poll=0.5):
    """The device's status once it has booted with the upload: its update record names the
    upload's SHA-256 and is past the state it had before the reboot (the process that took the
    upload still shows the record it read at its own boot)."""
    before = "rebooting" if payload.kind == "firmware" else "pending"
    end = time.monotonic() + timeout
    while True:
        try:
            st = device.status()
            rec = _record(payload, st)
            if rec.get("sha256") == payload.sha256 and rec.get("state") != before:
                return st
        except (OSError, ValueError):  # rebooting: not listening yet, or cut mid-answer
            pass
        if time.monotonic() > end:
            raise UpdateError(f"the device did not come back with the update within {timeout} s")
        time.sleep(poll)


def check_result(payload, st):
    """A one-line verdict on what the device runs after the update; UpdateError if it is not
    what was sent."""
    rec = _record(payload, st)
    if payload.kind == "firmware":
        if rec["state"] == "rolled-back":
            raise UpdateError(f"the new firmware did not stay: rolled back from "
                              f"{rec['rolled_back_from']}, running {st['firmware']}")
        if payload.version and st["firmware"] != payload.version:
            raise UpdateError(f"the device runs {st['firmware']}, not {payload.version}")
        return (f"runs firmware {st['firmware']} ({rec['state']}: marked valid once it has "
                "served healthy_ms)")
    if rec["state"] == "failed":
        raise UpdateError(f"the uploaded app failed: {rec['reason']}; the frozen app runs")
    return f"runs the uploaded app {st['app']} ({rec['state']})"


def run(device, payload, timeout, progress=None, wait=True, out=print):
    st = device.status()
    out(f"{device.addr[0]}: {st['board']}, firmware {st['firmware']}, app {st['app']}"
        + (", SAFE MODE" if st.get("safe_mode") else ""))
    headers = {"X-Ember-SHA256": payload.sha256}
    if payload.version:
        headers["X-Ember-Version"] = payload.version
    out(f"sending {payload.kind} ({len(payload.data)} bytes, sha256 {payload.sha256[:16]}…)")
    status, answer = device.post(payload.path, payload.data, headers, progress)
    if status != 200:
        reason = answer.get("error") if isinstance(answer, dict) else answer
        raise UpdateError(f"the device refused the {payload.kind}: {status} {reason}")
    out(f"accepted{' into ' + answer['slot'] if 'slot' in answer else ''}; the device reboots")
    if not wait:
        return None
    st = wait_back(device, payload, timeout)
    verdict = check_result(payload, st)
    out(f"{device.addr[0]}: {verdict}")
    return st


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ember-update", description=__doc__.split("\n")[0])
    ap.add_argument("device", help="host, host:port or http://host:port/")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--release", help="a release (dist/BOARD, or a GitHub release's "
                      "<BOARD>-<tag>-manifest.json): its OTA app image")
    what.add_argument("--firmware", help="an app image (micropython.bin) without a release")
    what.add_argument("--app", help="an application module, .py or .mpy for the board's arch")
    ap.add_argument("--version", help="with --firmware: the version it reports once running")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for the device "
                    "to come back (default 120)")
    ap.add_argument("--no-wait", action="store_true", help="return once the upload is accepted")
    a = ap.parse_args(argv)
    secret = os.environ.get(SECRET_ENV) or getpass.getpass(f"admin secret for {a.device}: ")
    device = Device(a.device, secret)
    try:
        if a.release:
            payload = from_release(a.release, device.status()["board"])
        elif a.firmware:
            payload = from_firmware(a.firmware, a.version)
        else:
            payload = from_app(a.app)
        run(device, payload, a.timeout, progress_bar(), wait=not a.no_wait)
    except (UpdateError, OSError) as e:
        print(f"ember-update: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
