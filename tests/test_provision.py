"""ember-provision image and flash: images read back (littlefs-python and MicroPython's own
VfsLfs2), from a release or the board definition alone, geometry refusals, --www refusals,
factory merge at offsets, releases as GitHub publishes them, dry-run command lines, and secrets
kept out of every output. Batches: test_provision_batch.py."""

import json
import os
import re
import shutil
import subprocess

import pytest
from ember_host import boards, device, esp, provision, release
from ember_host.target import ProvisionError, Target
from esptool.targets import CHIP_DEFS
from firmware_support import UNIX_MICROPYTHON, synthetic_build
from littlefs import LittleFS, LittleFSError

SECRETS = ("hunter2-wifi-pass", "admin-secret-0123")
CONFIG = {
    "wifi_ssid": "factory-lab",
    "wifi_password": SECRETS[0],
    "admin_secret": SECRETS[1],
    "device_id": "unit-0001",
    "hostname": "unit-0001",
}
# Boards with a release (the virtual board has a filesystem but no firmware to flash).
FS_BOARDS = [n for n in boards.names() if boards.load(n).filesystem and boards.load(n).flashable]


def make_release(tmp_path, name):
    board = boards.load(name)
    synthetic_build(board, tmp_path / "build")
    release.assemble(board, tmp_path / "build", tmp_path / "dist", "v1.0.0", "1.28.0")
    return tmp_path / "dist"


@pytest.fixture
def www(tmp_path):
    d = tmp_path / "www"
    (d / "css").mkdir(parents=True)
    (d / "index.html").write_text("<h1>ember</h1>")
    (d / "css" / "app.css.gz").write_bytes(b"\x1f\x8b\x08\x00gzip-bytes")
    return d


def mount(data, fs):
    lfs = LittleFS(
        block_size=fs.block_size, block_count=fs.block_count, mount=False, **device.LFS2_PARAMS
    )
    lfs.context.buffer[:] = data
    lfs.mount()
    return lfs


def read(lfs, path):
    with lfs.open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("name", FS_BOARDS)
def test_image_matches_the_board_geometry_and_reads_back(tmp_path, name, www, capsys):
    dist = make_release(tmp_path, name)
    cfg_file = tmp_path / "device.json"
    cfg_file.write_text(json.dumps(CONFIG))
    out = tmp_path / "vfs.bin"
    assert (
        provision.main(
            [
                "image",
                "--release",
                str(dist),
                "--config",
                str(cfg_file),
                "--www",
                str(www),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    fs = boards.load(name).filesystem
    data = out.read_bytes()
    assert len(data) == fs.size == fs.block_count * fs.block_size
    lfs = mount(data, fs)
    assert lfs.block_count == fs.block_count
    assert json.loads(read(lfs, "/config.json")) == dict(CONFIG, http_port=80)
    assert read(lfs, "/www/index.html") == b"<h1>ember</h1>"
    assert read(lfs, "/www/css/app.css.gz") == b"\x1f\x8b\x08\x00gzip-bytes"
    assert not any(s in capsys.readouterr().out for s in SECRETS)


def test_image_mounts_in_micropython_vfs_lfs2(tmp_path, www):
    if not UNIX_MICROPYTHON.exists():
        pytest.skip(f"no unix port binary ({UNIX_MICROPYTHON}): the unix stage runs this")
    fs = boards.load("EMBER_ESP32").filesystem
    image = tmp_path / "vfs.bin"
    image.write_bytes(device.build_image(device.device_config(CONFIG), fs, www))
    script = tmp_path / "mount.py"
    # A block device over the image file, as flashbdev gives MicroPython over the vfs partition.
    script.write_text(f"""
import vfs, json
class Bdev:
    def __init__(self, path, bs):
        self.f = open(path, "r+b"); self.bs = bs
    def readblocks(self, n, buf, off=0):
        self.f.seek(n * self.bs + off); self.f.readinto(buf)
    def writeblocks(self, n, buf, off=None):
        if off is None:
            off = 0
        self.f.seek(n * self.bs + off); self.f.write(buf)
    def ioctl(self, op, arg):
        if op == 4: return {fs.block_count}
        if op == 5: return {fs.block_size}
        if op == 6: return 0
bdev = Bdev({str(image)!r}, {fs.block_size})
vfs.mount(bdev, "/flash")
import sys
sys.path.insert(0, {str(boards.ROOT / "modules")!r})
from ember_device import config
cfg, problems = config.load("/flash/config.json")
import os
print(problems, cfg["hostname"], sorted(os.listdir("/flash/www")))
print(os.statvfs("/flash")[2])
with open("/flash/www/written-by-micropython", "w") as f:
    f.write("hi")
vfs.umount("/flash")
""")
    out = subprocess.run(
        [str(UNIX_MICROPYTHON), str(script)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["None unit-0001 ['css', 'index.html']", str(fs.block_count)]
    assert read(mount(image.read_bytes(), fs), "/www/written-by-micropython") == b"hi"


def test_wrong_geometry_is_refused(tmp_path, capsys):
    dist = make_release(tmp_path, "EMBER_ESP8266")
    cfg = tmp_path / "d.json"
    cfg.write_text(json.dumps(CONFIG))
    rc = provision.main(
        [
            "image",
            "--release",
            str(dist),
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "v.bin"),
            "--flash-size",
            "2MB",
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "flash size 2MB does not match EMBER_ESP8266 (4MB)" in err
    assert "763-block filesystem" in err
    assert not (tmp_path / "v.bin").exists()
    # A manifest whose filesystem does not add up is refused as well.
    m = json.loads((dist / "manifest.json").read_text())
    m["filesystem"]["block_count"] = 251
    (dist / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ProvisionError, match="not block_size"):
        Target.release(dist)


def test_image_of_one_geometry_does_not_mount_with_another(tmp_path):
    # Why the refusal matters: littlefs (like MicroPython) rejects a block-count mismatch.
    fs = boards.load("EMBER_ESP32_C3").filesystem
    data = device.build_image(device.device_config(CONFIG), fs)
    bigger = boards.Filesystem(fs.offset, fs.size * 2, fs.block_size, fs.block_count * 2)
    with pytest.raises(LittleFSError):
        mount(data + b"\xff" * fs.size, bigger)


@pytest.mark.parametrize("name", FS_BOARDS)
def test_factory_image_has_each_part_at_its_offset(tmp_path, name):
    dist = make_release(tmp_path, name)
    rel = Target.release(dist)
    image = tmp_path / "vfs.bin"
    image.write_bytes(device.build_image(device.device_config(CONFIG), rel.fs))
    out = tmp_path / "factory.bin"
    device.write_factory(rel, image, out)
    data = out.read_bytes()
    fw = (dist / "firmware.bin").read_bytes()
    placed = data[rel.firmware_offset : rel.firmware_offset + len(fw)]
    assert placed[:3] + placed[4:] == fw[:3] + fw[4:]  # byte 3: the flash size, the board's
    assert placed[3] & 0xF0 == CHIP_DEFS[rel.chip].FLASH_SIZES[rel.flash_size]
    assert data[rel.fs.offset :] == image.read_bytes()
    assert set(data[rel.firmware_offset + len(fw) : rel.fs.offset]) == {0xFF}
    assert len(data) == rel.fs.offset + rel.fs.size


def test_config_errors_name_each_field_and_never_the_secret():
    bad = dict(CONFIG, wifi_password="short", hostname="Bad_Host", http_port=0, extra=1)
    del bad["admin_secret"]
    with pytest.raises(ProvisionError) as e:
        device.device_config(bad)
    msg = str(e.value)
    for expected in (
        "admin_secret: is required",
        "extra: unknown field",
        "hostname: may only contain a-z, 0-9 and '-'",
        "http_port: must be an integer 1-65535",
        "wifi_password: must be empty (open network) or 8-63 characters",
    ):
        assert expected in msg
    assert "short" not in msg


def test_device_id_and_hostname_come_from_the_mac():
    raw = {k: v for k, v in CONFIG.items() if k not in ("device_id", "hostname")}
    cfg = device.device_config(raw, "24:0a:c4:12:AB:cd")
    assert (cfg["device_id"], cfg["hostname"]) == ("ember-12abcd", "ember-12abcd")


def config_file(tmp_path, cfg=CONFIG):
    path = tmp_path / "device.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def assert_flash_dry_run(out, firmware):
    """The three esptool commands `flash --dry-run` prints for EMBER_ESP32, and the record."""
    lines = out.splitlines()
    esptool = re.escape(
        f"{esp.command()[0]} -m esptool --chip esp32 --port /dev/ttyUSB0 --baud 460800"
    )
    assert re.fullmatch(esptool + " flash-id", lines[0])
    pairs = re.escape(f" 0x1000 {firmware} 0x310000 ") + r"/tmp/ember-provision-\w+/vfs\.bin"
    assert re.fullmatch(esptool + " write-flash --flash-size 4MB" + pairs, lines[1])
    assert re.fullmatch(esptool + " verify-flash" + pairs, lines[2])
    assert re.fullmatch(
        r"OK unit-0001 mac=00:00:00:00:00:00 hostname=unit-0001 sha256=[0-9a-f]{64}", lines[3]
    )
    assert not any(s in out for s in SECRETS)


def test_flash_dry_run_prints_the_esptool_commands(tmp_path, capsys):
    dist = make_release(tmp_path, "EMBER_ESP32")
    flash = ["flash", "--config", config_file(tmp_path), "--port", "/dev/ttyUSB0", "--dry-run"]
    assert provision.main([*flash, "--release", str(dist)]) == 0
    assert_flash_dry_run(capsys.readouterr().out, dist / "firmware.bin")


def test_image_from_the_board_definition_alone_is_the_release_image(tmp_path, www, capsys):
    dist = make_release(tmp_path, "EMBER_ESP32")
    args = ["image", "--config", config_file(tmp_path), "--www", str(www)]
    assert provision.main([*args, "--board", "EMBER_ESP32", "--out", str(tmp_path / "b")]) == 0
    assert provision.main([*args, "--release", str(dist), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "b").read_bytes() == (tmp_path / "r").read_bytes()
    assert "b: 240 x 4096 B LittleFS2 for EMBER_ESP32 @0x310000" in capsys.readouterr().out
    # A factory image needs firmware, which a board definition does not have: nothing written.
    factory = ["--factory", str(tmp_path / "f"), "--out", str(tmp_path / "x")]
    assert provision.main([*args, "--board", "EMBER_ESP32", *factory]) == 1
    assert capsys.readouterr().err == (
        "ember-provision: --board EMBER_ESP32 has no firmware to write: give --release "
        "(./build.sh EMBER_ESP32), or --fs-only to write the filesystem alone\n"
    )
    assert not (tmp_path / "x").exists() and not (tmp_path / "f").exists()


def test_not_a_release_says_how_to_get_one(tmp_path, capsys):
    args = ["image", "--config", config_file(tmp_path), "--out", str(tmp_path / "v.bin")]
    assert provision.main([*args, "--release", str(tmp_path / "dist")]) == 1
    assert capsys.readouterr().err == (
        f"ember-provision: {tmp_path}/dist: not a release (no manifest.json); build one with "
        "./build.sh <BOARD> (dist/<BOARD>/), give a GitHub release's <BOARD>-<tag>-manifest.json "
        "(its <BOARD>-<tag>-firmware.bin beside it), or --board <BOARD> for filesystem images "
        "only\n"
    )


def test_a_release_as_github_publishes_it(tmp_path, capsys):
    dist = make_release(tmp_path, "EMBER_ESP32")
    # The names firmware.yml's release job gives each file of dist/<BOARD>/.
    workflow = (boards.ROOT / ".github" / "workflows" / "firmware.yml").read_text()
    names = dict(
        re.findall(r'cp "\$dir/([\w.]+)" "release/\$board-\$GITHUB_REF_NAME-([\w.]+)"', workflow)
    )
    assert names["manifest.json"] == "manifest.json" and names["firmware.bin"] == "firmware.bin"
    docs = (boards.ROOT / "docs" / "provisioning.md").read_text()
    assert "<BOARD>-<tag>-manifest.json" in docs and "<BOARD>-<tag>-firmware.bin" in docs
    gh = tmp_path / "downloads"
    gh.mkdir()
    for name, suffix in names.items():
        if (dist / name).exists():
            shutil.copy(dist / name, gh / f"EMBER_ESP32-v1.0.0-{suffix}")
    flash = ["flash", "--config", config_file(tmp_path), "--port", "/dev/ttyUSB0", "--dry-run"]
    manifest = gh / "EMBER_ESP32-v1.0.0-manifest.json"
    assert provision.main([*flash, "--release", str(manifest)]) == 0
    assert_flash_dry_run(capsys.readouterr().out, gh / "EMBER_ESP32-v1.0.0-firmware.bin")
    # Another release's firmware beside this manifest is refused before any device is touched.
    shutil.copy(dist / "factory.bin", gh / "EMBER_ESP32-v1.0.0-firmware.bin")
    assert provision.main([*flash, "--release", str(manifest)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"ember-provision: {gh}/EMBER_ESP32-v1.0.0-firmware.bin: SHA-256 differs from its "
        "manifest's: not this release's firmware\n"
    )


def test_www_must_be_a_directory_that_fits(tmp_path, capsys):
    args = ["image", "--board", "EMBER_ESP32", "--config", config_file(tmp_path)]
    out = tmp_path / "vfs.bin"
    assert provision.main([*args, "--www", "/nonexistent", "--out", str(out)]) == 1
    assert capsys.readouterr().err == "ember-provision: --www /nonexistent: no such directory\n"
    big = tmp_path / "big"
    big.mkdir()
    (big / "app.js").write_bytes(os.urandom(1100 * 1024))
    assert provision.main([*args, "--www", str(big), "--out", str(out)]) == 1
    m = re.fullmatch(
        r"ember-provision: --www \S+/big: 1100 KiB of files need (\d+) KiB of filesystem with "
        r"/config.json, the board has 960 KiB: (\d+) KiB too large\n",
        capsys.readouterr().err,
    )
    assert m and int(m[2]) == int(m[1]) - 960 > 1100 - 960
    assert not out.exists()
    # What it says is too much is: that much less fits.
    (big / "app.js").write_bytes(os.urandom((1100 - int(m[2])) * 1024))
    assert provision.main([*args, "--www", str(big), "--out", str(out)]) == 0
    assert (
        len(read(mount(out.read_bytes(), boards.load("EMBER_ESP32").filesystem), "/www/app.js"))
        == (1100 - int(m[2])) * 1024
    )


def test_ember_provision_is_installed_as_a_command(tmp_path):
    proc = subprocess.run(
        [str(boards.ROOT / ".venv" / "bin" / "ember-provision"), "--help"],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 127:
        pytest.skip("ember-provision not installed in .venv")
    assert proc.returncode == 0 and "image" in proc.stdout and "batch" in proc.stdout
