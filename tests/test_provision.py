"""ember-provision: images read back (littlefs-python and MicroPython's own VfsLfs2), geometry
refusals, factory merge at offsets, the serial flow (real esptool failure, dry-run command
lines), a CSV batch with one bad row, and secrets kept out of every output."""

import csv
import json
import re
import subprocess

import pytest
from ember_host import boards, provision, release
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
FS_BOARDS = [n for n in boards.names() if boards.load(n).filesystem]


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
        block_size=fs.block_size, block_count=fs.block_count, mount=False, **provision.LFS2_PARAMS
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
        pytest.skip(f"MicroPython unix binary not built ({UNIX_MICROPYTHON})")
    fs = boards.load("EMBER_ESP32").filesystem
    image = tmp_path / "vfs.bin"
    image.write_bytes(provision.build_image(provision.device_config(CONFIG), fs, www))
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
sys.path.insert(0, {str(provision.boards.ROOT / "modules")!r})
from ember import config
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
    assert "flash size 2MB does not match release EMBER_ESP8266 (4MB)" in err
    assert "763-block filesystem" in err
    assert not (tmp_path / "v.bin").exists()
    # A manifest whose filesystem does not add up is refused as well.
    m = json.loads((dist / "manifest.json").read_text())
    m["filesystem"]["block_count"] = 251
    (dist / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(provision.ProvisionError, match="not block_size"):
        provision.Release(dist)


def test_image_of_one_geometry_does_not_mount_with_another(tmp_path):
    # Why the refusal matters: littlefs (like MicroPython) rejects a block-count mismatch.
    fs = boards.load("EMBER_ESP32_C3").filesystem
    data = provision.build_image(provision.device_config(CONFIG), fs)
    bigger = boards.Filesystem(fs.offset, fs.size * 2, fs.block_size, fs.block_count * 2)
    with pytest.raises(LittleFSError):
        mount(data + b"\xff" * fs.size, bigger)


@pytest.mark.parametrize("name", FS_BOARDS)
def test_factory_image_has_each_part_at_its_offset(tmp_path, name):
    dist = make_release(tmp_path, name)
    rel = provision.Release(dist)
    image = tmp_path / "vfs.bin"
    image.write_bytes(provision.build_image(provision.device_config(CONFIG), rel.fs))
    out = tmp_path / "factory.bin"
    provision.write_factory(rel, image, out)
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
    with pytest.raises(provision.ProvisionError) as e:
        provision.device_config(bad)
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
    cfg = provision.device_config(raw, "24:0a:c4:12:AB:cd")
    assert (cfg["device_id"], cfg["hostname"]) == ("ember-12abcd", "ember-12abcd")


def test_flash_dry_run_prints_the_esptool_commands(tmp_path, capsys):
    dist = make_release(tmp_path, "EMBER_ESP32")
    cfg = tmp_path / "d.json"
    cfg.write_text(json.dumps(CONFIG))
    assert (
        provision.main(
            [
                "flash",
                "--release",
                str(dist),
                "--config",
                str(cfg),
                "--port",
                "/dev/ttyUSB0",
                "--dry-run",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    esptool = re.escape(
        f"{provision.esp.command()[0]} -m esptool --chip esp32 --port /dev/ttyUSB0 --baud 460800"
    )
    assert re.fullmatch(esptool + " flash-id", lines[0])
    pairs = (
        re.escape(f" 0x1000 {dist}/firmware.bin 0x310000 ") + r"/tmp/ember-provision-\w+/vfs\.bin"
    )
    assert re.fullmatch(esptool + " write-flash --flash-size 4MB" + pairs, lines[1])
    assert re.fullmatch(esptool + " verify-flash" + pairs, lines[2])
    assert re.fullmatch(
        r"OK unit-0001 mac=00:00:00:00:00:00 hostname=unit-0001 sha256=[0-9a-f]{64}", lines[3]
    )
    assert not any(s in out for s in SECRETS)


def test_batch_carries_on_past_failures_and_keeps_secrets_out(tmp_path, capsys):
    dist = make_release(tmp_path, "EMBER_ESP32_S3")
    rows = tmp_path / "units.csv"
    fields = ["wifi_ssid", "wifi_password", "admin_secret", "http_port", "port"]
    with open(rows, "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerow(
            {
                "wifi_ssid": "lab",
                "wifi_password": SECRETS[0],
                "admin_secret": SECRETS[1],
                "http_port": "8080",
            }
        )
        w.writerow({"wifi_ssid": "lab", "wifi_password": "short", "admin_secret": SECRETS[1]})
        # A real esptool run against a port that is not there: the unit fails, the batch goes on.
        w.writerow(
            {
                "wifi_ssid": "lab",
                "wifi_password": SECRETS[0],
                "admin_secret": SECRETS[1],
                "port": str(tmp_path / "no-such-tty"),
            }
        )
        w.writerow({"wifi_ssid": "lab", "wifi_password": SECRETS[0], "admin_secret": SECRETS[1]})
    results = tmp_path / "results.csv"
    # First the whole flow in dry-run, then for real against serial ports that do not exist.
    rc = provision.main(
        [
            "batch",
            "--release",
            str(dist),
            "--csv",
            str(rows),
            "--port",
            "/dev/ttyUSB0",
            "--results",
            str(results),
            "--dry-run",
        ]
    )
    assert rc == 1
    got = list(csv.DictReader(open(results)))
    assert [r["status"] for r in got] == ["ok", "failed", "ok", "ok"]
    assert got[1]["error"] == "wifi_password: must be empty (open network) or 8-63 characters"

    real = tmp_path / "real.csv"
    rc = provision.main(
        [
            "batch",
            "--release",
            str(dist),
            "--csv",
            str(rows),
            "--port",
            str(tmp_path / "no-such-tty-either"),
            "--results",
            str(real),
        ]
    )
    assert rc == 1
    got = list(csv.DictReader(open(real)))
    assert [r["status"] for r in got] == ["failed"] * 4
    assert "Could not open" in got[2]["error"] and "no-such-tty" in got[2]["error"]

    captured = capsys.readouterr()
    everything = captured.out + captured.err + results.read_text() + real.read_text()
    assert "[4/4]" in captured.err and "FAILED row 2: wifi_password" in captured.out
    assert not any(s in everything for s in SECRETS)


def test_ember_provision_is_installed_as_a_command(tmp_path):
    proc = subprocess.run(
        [str(provision.boards.ROOT / ".venv" / "bin" / "ember-provision"), "--help"],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 127:
        pytest.skip("ember-provision not installed in .venv")
    assert proc.returncode == 0 and "image" in proc.stdout and "batch" in proc.stdout
