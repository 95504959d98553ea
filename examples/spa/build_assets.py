"""Gzip examples/spa/src/* into examples/spa/www/*.gz: what the device stores and serves.

Run it after editing src/ (tests/test_spa.py fails when www/ is stale). Output is deterministic
(mtime 0, no file name in the header), so an unchanged source gives an unchanged .gz.
"""

import gzip
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(check=False):
    """Write (or with check=True, compare) every asset; returns the names that differ."""
    stale = []
    for src in sorted((HERE / "src").iterdir()):
        data = gzip.compress(src.read_bytes(), compresslevel=9, mtime=0)
        dest = HERE / "www" / (src.name + ".gz")
        if not dest.is_file() or dest.read_bytes() != data:
            stale.append(dest.name)
            if not check:
                dest.write_bytes(data)
    return stale


if __name__ == "__main__":
    for name in build():
        print("wrote www/" + name)
