"""docs/features.md shows excerpts of the examples the feature tests run: each ```python block
after an `<!-- example: path -->` marker must appear verbatim in that file."""

import re

from conftest import ROOT

BLOCK = re.compile(r"<!-- example: (\S+) -->\n```python\n(.*?)```", re.S)


def test_snippets_are_in_their_examples():
    doc = (ROOT / "docs" / "features.md").read_text()
    found = BLOCK.findall(doc)
    assert len(found) >= 12
    for path, snippet in found:
        source = (ROOT / path).read_text()
        assert snippet in source, f"docs/features.md snippet not in {path}:\n{snippet}"
    # every feature example is shown and tested
    for name in ("static", "uploads", "rest", "cookies", "auth_cors", "subapp"):
        assert f"examples/{name}.py" in {p for p, _ in found}
        tests = " ".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
        assert f'"examples/{name}"' in tests
