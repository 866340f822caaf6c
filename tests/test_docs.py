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


def test_every_file_the_readme_and_the_docs_link_to_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/design.md" in readme and "docs/images/portfolio.png" in readme
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", page.read_text()):
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{page.name} links to {target}, which is not in the repository"
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in readme, f"the README does not lead to docs/{page.name}"
