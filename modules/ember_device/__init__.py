"""ember's device runtime: what one of our boards runs around the application.

A package of its own beside the server (`ember`), frozen into ember's boards only: an app that
installs `ember` alone never loads it. Today it holds the device configuration schema
(`ember_device.config`), which the firmware checks at boot and `ember-provision` checks before
it writes a filesystem image.
"""
