"""What units are provisioned from: a release (firmware + manifest), or a board definition alone.

A release is `dist/<BOARD>/` as `./build.sh <BOARD>` leaves it, or the `<BOARD>-<tag>-manifest.json`
of a GitHub release with its `<BOARD>-<tag>-firmware.bin` beside it. A board definition
(boards/<BOARD>/ember-board.json) gives the same geometry without firmware: enough for filesystem
images and `--fs-only` flashing.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import boards
from .boards import Filesystem

MANIFEST = "manifest.json"
FIRMWARE = "firmware.bin"


class ProvisionError(Exception):
    """Why a unit or a batch cannot be provisioned: one line per problem, never a secret."""


def _how_to_get_one(path):
    return (
        f"{path}: not a release (no {MANIFEST}); build one with ./build.sh <BOARD> "
        f"(dist/<BOARD>/), give a GitHub release's <BOARD>-<tag>-{MANIFEST} (its "
        f"<BOARD>-<tag>-{FIRMWARE} beside it), or --board <BOARD> for filesystem images only"
    )


@dataclass(frozen=True)
class Target:
    board: str
    chip: str
    flash_size: str
    fs: Filesystem
    firmware_offset: int
    # The release's firmware and the SHA-256 its manifest records; None for a board definition.
    firmware: Path | None = None
    firmware_sha256: str | None = None
    # The release's ember_version, and its manifest's "ota" entry (the app image ember-update
    # sends: file, size, sha256, slot_size), None on a board without two OTA slots.
    version: str | None = None
    ota: dict | None = None

    @classmethod
    def release(cls, path):
        """A release directory, or a manifest file (a GitHub release's names its firmware)."""
        path = Path(path)
        manifest = path / MANIFEST if path.is_dir() else path
        if not manifest.name.endswith(MANIFEST) or not manifest.is_file():
            raise ProvisionError(_how_to_get_one(path))
        try:
            m = json.loads(manifest.read_text())
            if not m["filesystem"]:
                raise ProvisionError(f"{manifest}: board {m['board']} has no filesystem")
            return cls(
                board=m["board"],
                chip=m["chip"],
                flash_size=m["flash_size"],
                fs=Filesystem.from_json(m["filesystem"]),
                firmware_offset=int(m["firmware_offset"], 0),
                firmware=manifest.with_name(manifest.name[: -len(MANIFEST)] + FIRMWARE),
                firmware_sha256=m["files"][FIRMWARE]["sha256"],
                version=m.get("ember_version"),
                ota=m.get("ota"),
            )
        except (ValueError, KeyError, TypeError) as e:
            reason = f"no {e} field" if isinstance(e, KeyError) else str(e)
            raise ProvisionError(f"{manifest}: not a release manifest ({reason})") from None

    @classmethod
    def board_definition(cls, name):
        try:
            b = boards.load(name)
        except ValueError as e:
            raise ProvisionError(str(e)) from None
        if not b.filesystem:
            raise ProvisionError(f"board {name} has no filesystem")
        return cls(b.name, b.chip, b.flash_size, b.filesystem, b.firmware_offset)

    def release_file(self, name):
        """A file of the release beside its manifest: dist/<BOARD>/<name>, or a GitHub release's
        <BOARD>-<tag>-<name> (micropython.bin published as -app.bin)."""
        prefix = self.firmware.name[: -len(FIRMWARE)]
        if prefix:
            name = {"micropython.bin": "app.bin"}.get(name, name)
        return self.firmware.with_name(prefix + name)

    def check_flash_size(self, size):
        """Refuse a device whose flash differs: its vfs partition would not match the image."""
        if size != self.flash_size:
            raise ProvisionError(
                f"flash size {size} does not match {self.board} ({self.flash_size}): "
                f"its {self.fs.block_count}-block filesystem would not match the vfs partition "
                f"and MicroPython would not mount it"
            )

    def firmware_file(self):
        """The firmware to write, checked against the manifest (a download may pair wrongly)."""
        if self.firmware is None:
            raise ProvisionError(
                f"--board {self.board} has no firmware to write: give --release "
                f"(./build.sh {self.board}), or --fs-only to write the filesystem alone"
            )
        try:
            digest = hashlib.sha256(self.firmware.read_bytes()).hexdigest()
        except OSError as e:
            raise ProvisionError(f"{self.firmware}: {e.strerror}") from None
        if digest != self.firmware_sha256:
            raise ProvisionError(
                f"{self.firmware}: SHA-256 differs from its manifest's: not this release's firmware"
            )
        return self.firmware
