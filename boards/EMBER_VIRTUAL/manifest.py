# ruff: noqa: F821 - manifestfile.py provides include() and module()
# SIMULATION: the virtual board freezes what every ember board freezes (the repository's
# manifest.py: ember, ember_device, ember_build, the app) plus the simulated ESP32 hardware in
# sim/. Only this unix variant includes sim/: no device board ever freezes it.
import os

include("../../manifest.py", board="EMBER_VIRTUAL")  # names this board in ember_build
for _name in sorted(os.listdir("sim")):  # machine, network, esp32, virtual_main
    if _name.endswith(".py"):
        module(_name, base_path="sim", opt=int(os.environ.get("EMBER_OPT", "3")))
