"""The serial console lines a test harness or a factory station reads (docs/device.md).

One line per state change: `ember: <event>` then space-separated `key=value` fields, the last of
which runs to the end of the line. Callers never pass a secret.
"""


def say(event, fields=""):
    print("ember: " + event + (" " + fields if fields else ""))
