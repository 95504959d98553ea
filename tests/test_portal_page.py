"""The setup page as it ships: setup_page.py (the gzipped constant frozen into firmware) holds
exactly setup.html as tools/gen_setup_page.py squeezes it, and the page stays small and
self-contained (a phone on the setup AP has no internet)."""

import gzip
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "modules"))

from ember_device.setup_page import PAGE  # noqa: E402


def test_the_generated_module_matches_the_source():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_setup_page.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_the_check_notices_a_stale_module(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_setup_page as gen
    finally:
        sys.path.remove(str(ROOT / "tools"))
    stale = tmp_path / "setup_page.py"
    page = gen.squeeze(gen.SOURCE.read_text())
    stale.write_text(gen.module_text(page.replace("Save and restart", "Save")))
    assert gen.page_in_module(stale) != page
    stale.write_text(gen.module_text(page))
    assert gen.page_in_module(stale) == page


def test_the_page_is_small_and_self_contained():
    assert len(PAGE) < 4096, len(PAGE)  # gzipped: a few KB
    html = gzip.decompress(PAGE).decode()
    assert html.startswith("<!doctype html>")
    # Nothing fetched from elsewhere: no URL with a scheme or host in any attribute or script.
    assert not re.search(r"(src|href|action)\s*=\s*\"?(https?:)?//", html), html
    assert not re.search(r"""fetch\(\s*["'](https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
