"""ember's device runtime: what one of our boards runs around the application.

A package of its own beside the server (`ember`), frozen into ember's boards only: an app that
installs `ember` alone never loads it. `runtime.run()` is the board's main (docs/device.md);
`config`, the configuration schema, is also what `ember-provision` checks before it writes a
filesystem image, and `ota.image_info` what `ember-update` checks before it sends one.
"""
