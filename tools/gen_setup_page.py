"""Writes modules/ember_device/setup_page.py from modules/ember_device/setup.html: the setup page
as one gzipped bytes constant. Frozen into firmware, the constant stays in flash, and the portal
sends it as it is (Content-Encoding: gzip): the device never compresses anything.

    .venv/bin/python tools/gen_setup_page.py          # after editing setup.html
    .venv/bin/python tools/gen_setup_page.py --check  # exit status 1 when setup_page.py is stale

The check compares the page inside the constant with the source, not the compressed bytes, which
depend on the zlib version."""

import gzip
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parent.parent / "modules" / "ember_device"
SOURCE = DIR / "setup.html"
MODULE = DIR / "setup_page.py"

_HEAD = '''"""The setup page (ember_device.portal's GET /), gzipped. Generated from setup.html by
tools/gen_setup_page.py: do not edit; tests/test_portal_page.py checks that it matches."""

PAGE = (
'''


def squeeze(html):
    """The page as sent: each line without its indentation, blank lines dropped (line breaks
    stay, so the script's statements end where they did)."""
    lines = [line.strip() for line in html.splitlines()]
    return "\n".join(line for line in lines if line) + "\n"


def module_text(page):
    data = gzip.compress(page.encode(), 9, mtime=0)
    rows = [data[i : i + 20] for i in range(0, len(data), 20)]
    return _HEAD + "".join("    %r\n" % row for row in rows) + ")\n"


def page_in_module(path=MODULE):
    """The page text inside the generated module (None when it is missing)."""
    if not path.is_file():
        return None
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return gzip.decompress(namespace["PAGE"]).decode()


def main(argv):
    page = squeeze(SOURCE.read_text())
    if argv[1:] == ["--check"]:
        if page_in_module() != page:
            print("%s is stale: run tools/gen_setup_page.py" % MODULE, file=sys.stderr)
            return 1
        return 0
    MODULE.write_text(module_text(page))
    print("%s: %d bytes gzipped" % (MODULE, len(gzip.compress(page.encode(), 9, mtime=0))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
