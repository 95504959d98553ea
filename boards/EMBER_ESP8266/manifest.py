# ruff: noqa: F821 - manifestfile.py provides include(), package(), module() and freeze()
# ESP8266 port modules, trimmed to what ember needs, with our _boot.py instead of the stock one
# (which would leave the SDK's factory access point running; see docs/firmware.md).
freeze("$(PORT_DIR)/modules", ("flashbdev.py", "inisetup.py"))
module("_boot.py", opt=3)
