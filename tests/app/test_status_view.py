"""System status page: its cards colour a degraded state amber, as the table's badges do, and a
failed one red (a DEGRADED card was red beside an amber badge)."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import assert_clean, html_text, start


def _card(text: str, label: str) -> str:
    """The value's CSS class of the ribbon card ``label``."""
    m = re.search(r'<div class="k">' + re.escape(label) + r'</div><div class="v ?([\w-]*)">', text)
    assert m, label
    return m.group(1)


@pytest.mark.parametrize(
    ("statuses", "overall", "degraded", "failed"),
    [
        (["ok", "degraded", "ok"], "phi-warn", "phi-warn", ""),
        (["ok", "degraded", "failed"], "phi-neg", "phi-warn", "phi-neg"),
        (["ok", "ok"], "phi-pos", "", ""),
    ],
)
def test_degraded_is_amber_and_failed_red(monkeypatch, statuses, overall, degraded, failed) -> None:
    import phi.status
    from phi.status import Check

    checks = [Check(f"c{i}", s, "why") for i, s in enumerate(statuses)]
    monkeypatch.setattr(phi.status, "system_status", lambda **_: checks)
    at = start()
    at.segmented_control(key="nav").set_value("System status").run()
    if "failed" in statuses:  # said in an error box by design
        assert not at.exception and [e.value for e in at.error] == ["Failed: c2 — see the reasons below."]
    else:
        assert_clean(at)
    text = html_text(at)
    assert _card(text, "overall") == overall
    assert _card(text, "degraded") == degraded
    assert _card(text, "failed") == failed
    if "degraded" in statuses:  # the table's badge: the same amber
        assert 'color:#f59e0b;font-weight:700">DEGRADED' in text
