"""Hardware-in-the-loop: a pytest plugin that flashes and provisions a board (or boots the virtual
board), waits for its ready line on the serial console, and hands the suite in tests/hil the
device to test over HTTP (docs/hil.md).

console.py reads the serial port; targets.py knows the two kinds of device; session.py starts one
and keeps the report; plugin.py is what pytest loads (entry point `ember_hil`).
"""
