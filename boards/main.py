# Firmware entry point (frozen as main.py on the ESP boards): the device runtime boots the board
# (docs/device.md); its parameters for this board come from the frozen ember_build module.
from ember_device import runtime

runtime.run()
