"""ember-provision batch: strict input refused whole before any device is touched, results that
are appended and resumed from, and a station of simulated ports flashed in parallel.

Simulated ports: a fake `esptool` package first on PYTHONPATH, so `python -m esptool` (the
command ember-provision really runs) logs its command line and answers as a board on that port
would. Each port holds one unit at a time; a verified unit is swapped for a new one (a new MAC),
as an operator would."""

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ember_host import boards, provision, results
from test_provision import CONFIG, SECRETS, make_release, mount, read

FAKE_ESPTOOL = r"""
import hashlib, json, os, sys, time
from pathlib import Path

args = sys.argv[1:]
port, command = args[args.index("--port") + 1], args[6]
state = Path(os.environ["FAKE_ESPTOOL_DIR"])
with open(state / "calls.log", "a") as log:
    log.write(json.dumps(args) + "\n")
if port in os.environ.get("FAKE_ESPTOOL_ABSENT", "").split(","):
    sys.exit(f"A fatal error occurred: Could not open {port}, the port doesn't exist")
swapped = state / (port.replace("/", "_") + ".swapped")  # units verified on this port so far
unit = int(swapped.read_text()) if swapped.exists() else 0
mac = hashlib.sha256(f"{port}#{unit}".encode()).hexdigest()[:6]
mac = "24:0a:c4:" + ":".join(mac[i : i + 2] for i in (0, 2, 4))
if command == "flash-id":
    print(f"Chip is ESP32-D0WD-V3\nMAC: {mac}\nDetected flash size: 4MB")
elif command == "write-flash":
    if port == os.environ.get("FAKE_ESPTOOL_HANG"):
        time.sleep(60)
    time.sleep(float(os.environ.get("FAKE_ESPTOOL_WRITE_S", "0")))
    pairs = args[args.index("--flash-size") + 2 :]
    flash = state / "flash" / mac
    flash.mkdir(parents=True, exist_ok=True)
    for offset, path in zip(pairs[::2], pairs[1::2]):
        (flash / offset).write_bytes(Path(path).read_bytes())
    print("Hash of data verified.")
elif command == "verify-flash":
    if port not in os.environ.get("FAKE_ESPTOOL_STUCK", "").split(","):
        swapped.write_text(str(unit + 1))
    print("-- verify OK (digest matched)")
else:
    sys.exit(f"fake esptool: unexpected {command}")
"""


class Station:
    """The simulated ports' state: every esptool call made, and what each unit holds."""

    def __init__(self, path):
        self.dir = path
        package = path / "esptool"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "__main__.py").write_text(FAKE_ESPTOOL)

    def calls(self):
        log = self.dir / "calls.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def commands(self, port):
        """Each esptool call on `port`: its command and what follows it."""
        return [c[6:] for c in self.calls() if c[c.index("--port") + 1] == port]

    def config(self, mac):
        """The /config.json the unit with this MAC holds now."""
        image = (self.dir / "flash" / mac / "0x310000").read_bytes()
        return json.loads(read(mount(image, boards.load("EMBER_ESP32").filesystem), "/config.json"))


@pytest.fixture
def station(tmp_path, monkeypatch):
    s = Station(tmp_path / "station")
    monkeypatch.setenv("PYTHONPATH", str(s.dir))
    monkeypatch.setenv("FAKE_ESPTOOL_DIR", str(s.dir))
    return s


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    return make_release(tmp_path_factory.mktemp("release"), "EMBER_ESP32")


def unit(n, **cells):
    row = {k: CONFIG[k] for k in ("wifi_ssid", "wifi_password", "admin_secret")}
    return dict(row, device_id=f"unit-{n:04d}", **cells)


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(path)


def batch(dist, csv_path, results_path, *args):
    return provision.main(
        ["batch", "--release", str(dist), "--csv", csv_path, "--results", str(results_path), *args]
    )


def records(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_no_secrets(*texts):
    assert not any(s in t for s in SECRETS for t in texts)


# ---- input: the whole file checked, nothing touched -------------------------------------------

GOOD = "lab,correct horse,admin-secret-0123"


@pytest.mark.parametrize(
    "text, args, problems",
    [
        (
            f"wifi_ssid,wifi_password,admin_secret,hostnme\n{GOOD},unit-1\n",
            ["--port", "/dev/sim0"],
            ["row 1, column 4 'hostnme': unknown column (did you mean 'hostname'?)"],
        ),
        (
            "wifi_ssid;wifi_password;admin_secret\nlab;correct horse;admin-secret-0123\n",
            ["--port", "/dev/sim0"],
            ["row 1: cells separated by ';': save it as comma-separated CSV"],
        ),
        (
            "wifi_ssid, wifi_password, admin_secret\nlab, correct horse, admin-secret-0123\n",
            ["--port", "/dev/sim0"],
            [
                f"row 1, column {i} ' {name}': spaces around the name: separate cells with ','"
                " alone"
                for i, name in ((2, "wifi_password"), (3, "admin_secret"))
            ],
        ),
        (
            f"wifi_ssid,wifi_password,admin_secret,wifi_ssid,\n{GOOD},lab,\n",
            ["--port", "/dev/sim0"],
            ["row 1, column 4 'wifi_ssid': repeats column 1", "row 1, column 5: no name"],
        ),
        (
            "wifi_ssid,admin_secret\nlab,admin-secret-0123\n",
            [],
            [
                "row 1: no wifi_password column (required)",
                "row 1: no port column and no --port: name each unit's serial port",
            ],
        ),
        (
            "wifi_ssid,wifi_password,admin_secret,device_id,hostname,http_port,port\n"
            f"{GOOD},unit-1,,80,/dev/sim0\n"  # row 2: fine
            "lab,sh0rt!,admin-secret-0123,unit-2,,eighty,/dev/sim0\n"  # bad secret and port
            f"{GOOD},unit-3\n"  # short
            f"{GOOD},unit-4,,80,/dev/sim0,extra\n"
            "\n"  # a blank line is no unit
            f"{GOOD},unit-1,,,\n"  # the same device_id; no port
            f"{GOOD},unit-7,unit-1,,/dev/sim0\n"  # a hostname that is row 2's
            f"{GOOD},unit-8,,, /dev/sim1\n",
            [],
            [
                "row 3, column http_port: must be an integer 1-65535",
                "row 3, column wifi_password: must be empty (open network) or 8-63 characters",
                "row 4: 4 cells, the header has 7",
                "row 5: 8 cells, the header has 7",
                "row 7, column port: empty, and no --port given",
                "row 7, column device_id: 'unit-1' is also in row 2",
                "row 8, column hostname: 'unit-1' is also in row 2",
                "row 9, column port: spaces around ' /dev/sim1'",
            ],
        ),
        (
            f"lab,{SECRETS[0]},{SECRETS[1]}\n",  # no header row: the first unit is not echoed
            ["--port", "/dev/sim0"],
            [
                "row 1: not a header, it names no column (admin_secret, device_id, hostname, "
                "http_port, wifi_password, wifi_ssid, port)"
            ],
        ),
        (
            "wifi_ssid,wifi_password,admin_secret\n",
            ["--port", "/dev/sim0"],
            [": no units below the header"],
        ),
        ("", ["--port", "/dev/sim0"], [": empty, no header row"]),
        (
            "wifi_ssid,wifi_password,admin_secret\ncaf\xe9,correct horse,admin-secret-0123\n",
            ["--port", "/dev/sim0"],
            [": not UTF-8 (byte 40): save it as CSV UTF-8"],
        ),
    ],
    ids=[
        "misspelt",
        "semicolons",
        "space-after-comma",
        "repeated-and-nameless",
        "missing-columns",
        "rows",
        "headerless",
        "header-only",
        "empty",
        "latin-1",
    ],
)
def test_bad_input_is_refused_whole_before_any_device(
    tmp_path, dist, station, capsys, text, args, problems
):
    units = tmp_path / "units.csv"
    units.write_bytes(text.encode("latin-1"))
    assert batch(dist, str(units), tmp_path / "results.csv", *args) == 1
    captured = capsys.readouterr()
    sep = "" if problems[0].startswith(":") else " "
    assert captured.err.splitlines() == [f"ember-provision: {units}{sep}{p}" for p in problems]
    assert captured.out == "" and "sh0rt!" not in captured.err
    assert_no_secrets(captured.err)
    assert station.calls() == [] and not (tmp_path / "results.csv").exists()


def test_names_given_out_before_are_refused_and_other_results_files_left_alone(
    tmp_path, dist, station, capsys
):
    earlier = tmp_path / "results.csv"
    other_csv = str(tmp_path / "last-week.csv")
    rec = dict(csv=other_csv, row=2, status="ok", port="/dev/sim9", device_id="unit-0001")
    rec.update(mac="24:0a:c4:00:00:01", hostname="unit-0001", image_sha256="0" * 64, error="")
    with open(earlier, "w", newline="") as f:
        w = csv.DictWriter(f, results.FIELDS)
        w.writeheader()
        w.writerow(rec)
    before = earlier.read_bytes()
    units = write_csv(
        tmp_path / "units.csv", [unit(1, port="/dev/sim0"), unit(2, port="/dev/sim1")]
    )
    assert batch(dist, units, earlier) == 1
    assert capsys.readouterr().err == (
        f"ember-provision: {units} row 2, column device_id: 'unit-0001' was provisioned already "
        f"({earlier} row 2)\n"
    )
    # A file that is not a results file (here the format before `csv` and `port`) is refused.
    old = tmp_path / "old-results.csv"
    old.write_text("row,status,device_id,mac,hostname,image_sha256,error\n1,ok,a,b,c,d,\n")
    assert batch(dist, units, old) == 1
    assert "not an ember-provision results file" in capsys.readouterr().err
    assert earlier.read_bytes() == before and old.read_text().endswith("1,ok,a,b,c,d,\n")
    assert station.calls() == []


@pytest.mark.parametrize("source", ["--release", "--board"])
def test_dry_run_checks_everything_and_writes_nothing(tmp_path, dist, station, capsys, source):
    units = write_csv(tmp_path / "units.csv", [unit(1, port=""), unit(2, port="/dev/sim1")])
    results_path = tmp_path / "results.csv"
    what = str(dist) if source == "--release" else "EMBER_ESP32"
    args = ["batch", source, what, "--csv", units, "--results", str(results_path)]
    assert provision.main([*args, "--port", "/dev/sim0", "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        f"{units}: 2 units to provision; no device touched, nothing written\n"
    )
    # The same checks as a real run: a --www that does not fit is found without a device.
    www = tmp_path / "www"
    www.mkdir()
    (www / "big.bin").write_bytes(os.urandom(1024 * 1024))
    assert provision.main([*args, "--port", "/dev/sim0", "--dry-run", "--www", str(www)]) == 1
    assert "KiB too large" in capsys.readouterr().err
    assert station.calls() == [] and not results_path.exists()


# ---- the station: simulated ports ---------------------------------------------------------------


def test_every_port_at_once_beats_the_sequential_batch(tmp_path, dist, station, monkeypatch):
    monkeypatch.setenv("FAKE_ESPTOOL_WRITE_S", "0.2")  # the time a unit takes to write
    ports = [f"/dev/sim{i}" for i in range(4)]
    # Saved by a spreadsheet as "CSV UTF-8": with a byte-order mark.
    par = write_csv(
        tmp_path / "par.csv", [unit(i, port=p) for i, p in enumerate(ports)], "utf-8-sig"
    )
    seq = write_csv(tmp_path / "seq.csv", [unit(i, port=ports[0]) for i in range(4)], "utf-8-sig")

    def timed(units, results_path):
        start = time.perf_counter()
        assert batch(dist, units, results_path) == 0
        return time.perf_counter() - start

    parallel = timed(par, tmp_path / "par-results.csv")
    for port in ports:
        assert [c[0] for c in station.commands(port)] == ["flash-id", "write-flash", "verify-flash"]
    sequential = timed(seq, tmp_path / "seq-results.csv")
    print(f"4 units: {parallel:.2f} s on 4 ports at once, {sequential:.2f} s one after another")
    assert parallel < sequential / 2

    for results_path, units in (
        (tmp_path / "par-results.csv", par),
        (tmp_path / "seq-results.csv", seq),
    ):
        got = records(results_path)
        assert sorted(r["row"] for r in got) == ["2", "3", "4", "5"]
        assert {r["status"] for r in got} == {"ok"} and len({r["mac"] for r in got}) == 4
        for r in got:  # each simulated unit holds its own row's config
            assert station.config(r["mac"]) == dict(
                CONFIG, device_id=r["device_id"], hostname=r["device_id"], http_port=80
            )
            assert r["device_id"] == f"unit-{int(r['row']) - 2:04d}"
            assert r["csv"] == str(Path(units).resolve())


def test_a_port_stops_alone_and_the_next_run_resumes(tmp_path, dist, station, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_ESPTOOL_ABSENT", "/dev/sim1")  # nothing plugged in
    monkeypatch.setenv("FAKE_ESPTOOL_STUCK", "/dev/sim2")  # its unit is not swapped
    rows = [unit(n, port=f"/dev/sim{n // 2}") for n in range(6)]
    units = write_csv(tmp_path / "units.csv", rows)
    results_path = tmp_path / "results.csv"
    assert batch(dist, units, results_path) == 1
    captured = capsys.readouterr()
    got = records(results_path)
    others = sorted((r["row"], r["status"], r["port"]) for r in got if r["port"] != "/dev/sim0")
    assert others == [
        ("4", "failed", "/dev/sim1"),
        ("6", "ok", "/dev/sim2"),
    ]
    assert [r["status"] for r in got if r["port"] == "/dev/sim0"] == ["ok", "ok"]
    assert got[[r["row"] for r in got].index("4")]["error"].startswith(
        "esptool failed: A fatal error occurred: Could not open /dev/sim1"
    )
    assert captured.out.splitlines()[-1] == (
        f"3 provisioned, 1 failed, 2 not started; results in {results_path}; "
        "put the next units on the ports and run the same command again"
    )
    last = {p: line for line in captured.err.splitlines() for p in [line.split(": ")[0]]}
    assert last["/dev/sim0"] == "/dev/sim0: finished after 2"
    assert last["/dev/sim1"] == "/dev/sim1: stopped after 0: row 4 failed"
    mac = next(r["mac"] for r in got if r["row"] == "6")
    assert last["/dev/sim2"].startswith(f"/dev/sim2: stopped after 1: unit {mac} is provisioned")
    assert "; put the next unit on" in last["/dev/sim2"]
    # The operator plugs sim1 in and swaps sim2's unit: the same command does only what is left.
    monkeypatch.setenv("FAKE_ESPTOOL_ABSENT", "")
    monkeypatch.setenv("FAKE_ESPTOOL_STUCK", "")
    (station.dir / "_dev_sim2.swapped").write_text("1")
    calls = len(station.calls())
    assert batch(dist, units, results_path) == 0
    redone = [c for c in station.calls()[calls:] if c[6] == "write-flash"]
    assert sorted(c[c.index("--port") + 1] for c in redone) == ["/dev/sim1"] * 2 + ["/dev/sim2"]
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"3 provisioned, 0 failed, 0 not started, 3 recorded ok before; results in {results_path}"
    )
    again = records(results_path)
    assert again[: len(got)] == got  # appended, nothing lost
    assert sorted(r["row"] for r in again if r["status"] == "ok") == ["2", "3", "4", "5", "6", "7"]
    assert_no_secrets(results_path.read_text(), captured.out, captured.err)


def test_live_lines_one_per_port_redrawn_in_place(tmp_path, dist, station, capsys):
    class Terminal:
        """Enough of a terminal for the progress block: text, newline, CPL, ED and EL."""

        def __init__(self):
            self.screen, self.row = [""], 0

        def isatty(self):
            return True

        def flush(self):
            pass

        def write(self, text):
            for token in re.findall(r"\x1b\[\d*[A-Z]|\n|[^\x1b\n]+", text):
                if token == "\n":
                    self.row += 1
                    if self.row == len(self.screen):
                        self.screen.append("")
                elif token.endswith("F"):
                    self.row -= int(token[2:-1])
                elif token == "\x1b[J":
                    del self.screen[self.row + 1 :]
                    self.screen[self.row] = ""
                elif token == "\x1b[2K":
                    self.screen[self.row] = ""
                else:
                    self.screen[self.row] += token

    terminal = Terminal()
    units = write_csv(tmp_path / "units.csv", [unit(n) for n in range(4)])
    ports = ["--port", "/dev/sim0", "--port", "/dev/sim1"]
    with contextlib.redirect_stderr(terminal):
        assert batch(dist, units, tmp_path / "results.csv", *ports) == 0
    lines = [re.fullmatch(rf"/dev/sim{i}  finished after (\d)", terminal.screen[i]) for i in (0, 1)]
    assert all(lines) and sum(int(m[1]) for m in lines) == 4 and terminal.screen[2:] == [""]
    assert len(capsys.readouterr().out.splitlines()) == 5  # a line per unit, and the summary


def test_an_interrupted_batch_keeps_every_record_and_resumes(tmp_path, dist, station):
    ports = ["/dev/sim0", "/dev/sim1", "/dev/sim2"]
    units = write_csv(tmp_path / "units.csv", [unit(n, port=p) for n, p in enumerate(ports)])
    results_path = tmp_path / "results.csv"
    cmd = [sys.executable, "-m", "ember_host.provision", "batch", "--release", str(dist)]
    cmd += ["--csv", units, "--results", str(results_path)]
    env = dict(os.environ, FAKE_ESPTOOL_HANG="/dev/sim2")  # sim2's write never ends by itself
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (
            results_path.exists()
            and len(records(results_path)) == 2
            and any(c[6] == "write-flash" for c in station.calls() if "/dev/sim2" in c)
        ):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        # The records are on disk while the batch still runs; Ctrl-C reaches it as from a terminal.
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert out.splitlines()[-1] == (
        f"interrupted: 2 provisioned, 1 failed, 0 not started; results in {results_path}; "
        "run the same command again to resume"
    )
    got = records(results_path)
    assert [(r["port"], r["status"]) for r in sorted(got, key=lambda r: r["row"])] == [
        ("/dev/sim0", "ok"),
        ("/dev/sim1", "ok"),
        ("/dev/sim2", "failed"),
    ]
    calls = len(station.calls())
    assert batch(dist, units, results_path) == 0
    assert [c[6] for c in station.calls()[calls:]] == ["flash-id", "write-flash", "verify-flash"]
    assert all("/dev/sim2" in c for c in station.calls()[calls:])
    assert records(results_path)[:3] == got and records(results_path)[3]["status"] == "ok"
    assert_no_secrets(out, err, results_path.read_text())


def test_real_esptool_with_no_device_records_the_failure(tmp_path, dist, capsys):
    units = write_csv(tmp_path / "units.csv", [unit(1)])
    results_path = tmp_path / "results.csv"
    assert batch(dist, units, results_path, "--port", str(tmp_path / "no-such-tty")) == 1
    (got,) = records(results_path)
    assert got["status"] == "failed" and got["row"] == "2"
    assert "Could not open" in got["error"] and "no-such-tty" in got["error"]
    captured = capsys.readouterr()
    assert f"FAILED row 2 on {tmp_path}/no-such-tty: esptool failed" in captured.out
    assert_no_secrets(captured.out, captured.err, results_path.read_text())
