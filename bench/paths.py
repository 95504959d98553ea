"""Where the bench reads its inputs and writes its results, for every bench module."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "bench" / "apps"  # the apps each server freezes, and bench_probe
PEERS = ROOT / "bench" / "peers"  # tinyweb, copied in at run time (gitignored)
OUT = ROOT / "bench" / "out"  # results.md, results.json, callgrind dumps (gitignored)
