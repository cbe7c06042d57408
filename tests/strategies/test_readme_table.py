"""The README's preset table says what the catalogue holds (docs that cannot drift)."""

from __future__ import annotations

from pathlib import Path

import phi.strategies as strategies

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_lists_every_preset_as_the_catalogue_describes_it():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Strategy presets", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| name ")]
    expected = {p.name: "| " + " | ".join(c.replace("|", "\\|") for c in (p.name, p.rule, p.sides, p.defaults, p.source)) + " |"
                for p in strategies.list()}  # fmt: skip
    assert set(rows) <= set(expected.values())  # every row says what its preset says
    ours = [p.name for p in strategies.list() if p.family in ("classic", "regime", "portfolio")]
    assert [expected[name] for name in ours] == rows[: len(ours)]  # this presets, in order
