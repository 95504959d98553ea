# Firmware entry point (frozen as main.py on the ESP boards). The application starts only with a
# valid /config.json; otherwise the device stays in setup state: radios off, problems on the REPL.
import network
import ember_build
from ember_device import config

cfg, problems = config.load()
if problems:
    for iface in (network.WLAN.IF_STA, network.WLAN.IF_AP):
        network.WLAN(iface).active(False)
    print("ember %s: setup state, no usable %s" % (ember_build.VERSION, config.PATH))
    for field, message in problems:
        print("  %s: %s" % (field, message))
else:
    __import__(ember_build.APP).app.run("0.0.0.0", cfg["http_port"])
