"""README.md shows excerpts of examples the tests run (tests/test_examples_core.py): each
```python block after an `<!-- example: path -->` marker must appear verbatim in that file,
and the test command README names is the one CI runs."""

from conftest import ROOT
from test_docs_features import BLOCK


def test_readme_snippets_are_in_their_examples():
    found = BLOCK.findall((ROOT / "README.md").read_text())
    assert len(found) >= 5
    for path, snippet in found:
        assert snippet in (ROOT / path).read_text(), f"README snippet not in {path}:\n{snippet}"


def test_ci_runs_the_readme_test_command():
    assert "./build.sh test" in (ROOT / "README.md").read_text()
    assert "./build.sh test" in (ROOT / ".ci" / "run").read_text()
