"""The pytest plugin (entry point `pytest11: ember_hil`): options, the `device` fixture, the serial
log on failures, the JSON report.

    pytest --hil-board EMBER_ESP32 --hil-port /dev/ttyUSB0 --hil-release dist/EMBER_ESP32 tests/hil
    pytest --hil-board EMBER_UNIX tests/hil          # the virtual board (SIMULATION)

Wi-Fi and the admin secret come from EMBER_HIL_WIFI_SSID, EMBER_HIL_WIFI_PASSWORD and
EMBER_ADMIN_SECRET. Without --hil-board the plugin does nothing and HIL tests skip.
"""

import os
import re
import time
from pathlib import Path

import pytest

from ..target import ProvisionError
from . import targets
from .session import Session, first_trouble

SESSION = pytest.StashKey()
MARK = pytest.StashKey()
BEFORE = 10  # console lines from before a failed test quoted with its own


def pytest_addoption(parser):
    g = parser.getgroup("ember-hil", "ember hardware-in-the-loop (tests/hil, docs/hil.md)")
    g.addoption(
        "--hil-board",
        help="the board under test: EMBER_ESP32, EMBER_ESP32_S3, EMBER_ESP32_C3, EMBER_ESP8266, "
        "or EMBER_UNIX (= EMBER_VIRTUAL, the virtual board)",
    )
    g.addoption(
        "--hil-port",
        help="the board's serial port (/dev/serial/by-id/usb-...), or a pyserial URL "
        "(rfc2217://host:port)",
    )
    g.addoption(
        "--hil-release",
        help="dist/<BOARD>/ or a GitHub release's <BOARD>-<tag>-manifest.json; for the virtual "
        "board its firmware (default build/EMBER_VIRTUAL/micropython)",
    )
    g.addoption(
        "--hil-no-flash",
        action="store_true",
        help="do not write firmware or filesystem: reset the board as it is (EMBER_ADMIN_SECRET "
        "must be the secret it has)",
    )
    g.addoption(
        "--hil-app",
        help="an app module written into the provisioned filesystem in place of the firmware's "
        "frozen app (the app-only update's place, /<name>.mpy: compiled with mpy-cross for the "
        "board); default: the hil_app ini option "
        "(this project: tests/hil/hil_app.py); 'none': the frozen app",
    )
    parser.addini("hil_app", "--hil-app's default, relative to the ini file", default="")
    g.addoption(
        "--hil-app-as",
        default="demo",
        help="the frozen app's module name, which --hil-app shadows (demo: what releases freeze)",
    )
    g.addoption("--hil-baud", type=int, default=115200, help="console baud rate (115200)")
    g.addoption("--hil-flash-baud", type=int, default=460800, help="esptool baud rate (460800)")
    g.addoption(
        "--hil-timeout",
        type=float,
        default=60.0,
        help="seconds from reset to the ready line (60)",
    )
    g.addoption(
        "--hil-virtual-heap",
        default=targets.VIRTUAL_HEAP,
        help=f"the virtual board's MicroPython heap ({targets.VIRTUAL_HEAP}: about what an "
        "ESP32 leaves an app; 64k or less for an ESP8266's)",
    )
    g.addoption(
        "--hil-artifacts",
        help="folder for the serial logs and hil-report.json (default: the --junitxml folder, "
        "else ./hil-artifacts)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "hil_boards(*names, reason): run only on these boards (skipped elsewhere, with reason)",
    )
    config.addinivalue_line("markers", "hil_reboots: restarts the device; runs after the others")
    board = config.getoption("--hil-board")
    if not board:
        return
    o = config.getoption
    try:
        target = targets.make(
            board,
            o("--hil-port"),
            o("--hil-release"),
            o("--hil-baud"),
            o("--hil-flash-baud"),
            o("--hil-virtual-heap"),
        )
        flash = not o("--hil-no-flash")
        settings = targets.device_settings(os.environ, target.virtual, flash)
        app = o("--hil-app")
        if app is None and config.getini("hil_app") and config.inipath:
            app = config.inipath.parent / config.getini("hil_app")
        files = None
        if app and app != "none":
            files = targets.app_files(target, o("--hil-app-as"), Path(app))
    except targets.Unavailable as e:
        target, settings = None, str(e)
    except (ProvisionError, OSError) as e:
        raise pytest.UsageError(f"ember-hil: {e}") from None
    artifacts = o("--hil-artifacts")
    if not artifacts:
        xml = config.getoption("--junitxml", None)
        artifacts = Path(xml).parent if xml else "hil-artifacts"
    if target is None:
        config.stash[SESSION] = settings  # why the suite skips
    else:
        timeout = o("--hil-timeout")
        config.stash[SESSION] = Session(target, settings, artifacts, timeout, flash, files)


def _session(config):
    return config.stash.get(SESSION, None)


def pytest_report_header(config):
    s = _session(config)
    if isinstance(s, Session):
        where = s.target.port or "a pseudo-terminal"
        return f"ember-hil: {s.target.name} on {where}, artifacts in {s.artifacts}"


def pytest_collection_modifyitems(config, items):
    board = config.getoption("--hil-board")
    board = targets.ALIASES.get(board, board)
    for item in items:
        m = item.get_closest_marker("hil_boards")
        if board and m and board not in m.args:
            why = f"only on {', '.join(m.args)}: {m.kwargs.get('reason', '')}".rstrip(": ")
            item.add_marker(pytest.mark.skip(reason=why))
    # Tests that restart the device go last, so the others share one boot.
    items.sort(key=lambda item: item.get_closest_marker("hil_reboots") is not None)


def _live(config):
    """The session, or a skip saying why there is none (no board asked for, or no firmware)."""
    s = _session(config)
    if s is None:
        pytest.skip("no --hil-board: the HIL suite needs a board (docs/hil.md)")
    if isinstance(s, str):
        pytest.skip(s)
    return s


@pytest.fixture(scope="session")
def device(request):
    """The device under test, ready: base_url, ip, port, id, version, secret, console, log."""
    s = _live(request.config)
    if s.device is None:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")

        def step(text):
            if reporter is not None:
                reporter.write_line(f"ember-hil: {s.target.name}: {text}")

        s.start(step)
    yield s.device


@pytest.fixture(scope="session")
def hil_report(request):
    """The run's report: `hil_report.timing(name, seconds)`, `hil_report.heap_figure(name, n)`."""
    return _live(request.config).report


def pytest_runtest_setup(item):
    s = _session(item.config)
    if isinstance(s, Session) and s.console is not None:
        item.stash[MARK] = s.console.mark()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    s = _session(item.config)
    if not isinstance(s, Session):
        return
    if s.console is not None and rep.when == "call" and not rep.skipped:
        s.console.settle()
    if rep.when == "call" and rep.passed and s.console is not None:
        # A test the device answered correctly while crashing somewhere (a traceback, an error
        # line) has found a bug all the same.
        trouble = first_trouble(s.console, item.stash.get(MARK, 0))
        if trouble:
            rep.outcome = "failed"
            rep.longrepr = f"the device reported trouble during the test: {trouble}"
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        s.report.tests.append(
            {"test": item.nodeid, "outcome": rep.outcome, "duration_s": round(rep.duration, 3)}
        )
    if rep.failed and s.console is not None:
        # The test's own lines, after the few before it: what the board was doing when it began.
        since = max(0, item.stash.get(MARK, 0) - BEFORE)
        name = re.sub(r"[^\w.-]+", "_", item.nodeid) + ".serial.log"
        path = s.save_log(name, since)
        rep.sections.append((f"serial console ({s.target.port})", s.console.text(since)))
        item.user_properties.append(("serial_log", str(path)))  # JUnit XML: a property


def pytest_sessionfinish(session):
    s = _session(session.config)
    if isinstance(s, Session):
        s.close()
        if s.report.tests:  # also when provisioning failed: the report says so
            s.report.timing("session", time.monotonic() - s.started)
            s.artifacts.mkdir(parents=True, exist_ok=True)
            s.report.write(s.artifacts / "hil-report.json")


def pytest_terminal_summary(terminalreporter, config):
    s = _session(config)
    if isinstance(s, Session) and s.report.tests:
        terminalreporter.write_line(f"ember-hil: serial log and hil-report.json in {s.artifacts}/")
