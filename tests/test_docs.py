"""The documentation lives in the repository: every citation of the design names a
section it has, every file the README links to exists, nothing points outside."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import ROOT

DESIGN = ROOT / "docs" / "design.md"


def tracked_text_files() -> list[str]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [n for n in names if not n.endswith((".png", ".jar", ".json")) and (ROOT / n).is_file()]


def test_every_design_citation_names_a_section_the_design_has() -> None:
    sections = {int(n) for n in re.findall(r"^## (\d+)\.", DESIGN.read_text(), re.MULTILINE)}
    cited: dict[str, set[int]] = {}
    for name in tracked_text_files():
        if name == "tests/test_docs.py":  # the patterns it looks for
            continue
        text = (ROOT / name).read_text(errors="replace")
        assert "../shared" not in text and "DESIGN.md" not in text, f"{name} points outside the repository"
        for number in re.findall(r"docs/design\.md (?:§|section )(\d+)", text):
            cited.setdefault(name, set()).add(int(number))
    assert cited, "nothing cites the design"
    for name, numbers in cited.items():
        assert numbers <= sections, f"{name} cites §{sorted(numbers - sections)}, which docs/design.md lacks"


def test_every_file_the_readme_links_to_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", readme)
    assert "docs/design.md" in targets and "docs/images/portfolio.png" in targets
    for target in targets:
        assert (ROOT / target.split("#")[0]).exists(), f"README links to {target}, which is not in the repository"
