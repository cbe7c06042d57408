"""Browser checks that text is whole: no label cut to "…", no two texts drawn over each other,
no chart text outside its chart (the workbench audit at 1440 × 900 and 1280 × 720)."""

from __future__ import annotations

from typing import Any

#: Elements under ``root`` whose text is cut: wider content than box (an ellipsis or clip). A
#: 1 px box is a screen reader's text, hidden on purpose (an icon button's "add icon").
CUT_JS = """(root, sel) => Array.from(root.querySelectorAll(sel))
  .flatMap(e => [e, ...e.querySelectorAll('*')])
  .filter(e => e.offsetParent !== null && e.clientWidth > 1 && e.scrollWidth > e.clientWidth
               && getComputedStyle(e).overflow !== 'visible')
  .map(e => e.textContent)"""

#: [text, left, top, right, bottom] of the elements ``sel`` under ``root`` that are drawn.
BOXES_JS = """(root, sel) => Array.from(root.querySelectorAll(sel)).map(e => [e.textContent, e.getBoundingClientRect()])
  .filter(([t, r]) => t.trim() && r.width > 0).map(([t, r]) => [t, r.left, r.top, r.right, r.bottom])"""


def cut_texts(locator: Any, sel: str = "*") -> list[str]:
    """Texts cut by their box among ``sel`` (and their descendants) under ``locator``."""
    return list(locator.evaluate(CUT_JS, sel))


#: Elements ``sel`` under ``root`` whose text is wider than their box, whether it is cut or
#: drawn over its neighbours (``overflow: visible``).
WIDER_JS = """(root, sel) => Array.from(root.querySelectorAll(sel))
  .filter(e => e.offsetParent !== null && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent)"""


def wider_texts(locator: Any, sel: str) -> list[str]:
    """Texts ``sel`` under ``locator`` wider than their box (cut, or spilling over the next)."""
    return list(locator.evaluate(WIDER_JS, sel))


def boxes(locator: Any, sel: str) -> list[tuple[str, float, float, float, float]]:
    return [tuple(b) for b in locator.evaluate(BOXES_JS, sel)]


def overlapping(locator: Any, sel: str, gap: float = -1) -> list[tuple[str, str]]:
    """Pairs of texts ``sel`` under ``locator`` side by side (boxes overlapping by more than 1 px
    vertically) with less than ``gap`` px between them; the default -1: overlapping by more
    than 1 px. Two names less than two spaces apart (8 px at 12 px) read as one phrase:
    "BREAKOUT_UP BREAKOUT_DN" 5 px apart did."""
    found = boxes(locator, sel)
    out = []
    for i, (a, l1, t1, r1, b1) in enumerate(found):
        for b, l2, t2, r2, b2 in found[i + 1 :]:
            if max(l1, l2) - min(r1, r2) < gap and min(b1, b2) - max(t1, t2) > 1:
                out.append((a, b))
    return out


def outside(locator: Any, sel: str) -> list[str]:
    """Texts ``sel`` under ``locator`` drawn (partly) outside the locator's own box."""
    box = locator.bounding_box()
    return [t for t, left, top, right, bottom in boxes(locator, sel)
            if left < box["x"] - 1 or top < box["y"] - 1 or right > box["x"] + box["width"] + 1
            or bottom > box["y"] + box["height"] + 1]  # fmt: skip


def check_tick_labels(page: Any, chart: Any, count: int, *, exact: bool, gap: float = 8) -> None:
    """At 1440 x 900 and 1280 x 720: ``chart``'s x tick labels drawn (``count`` of them, or at
    least that many), all inside the chart and none within ``gap`` px of another."""
    ticks = "g.xaxislayer-above text"
    for width, height in ((1440, 900), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)
        chart.scroll_into_view_if_needed()
        drawn = boxes(chart, ticks)
        assert (len(drawn) == count) if exact else (len(drawn) >= count), (width, drawn)
        assert not outside(chart, ticks), (width, outside(chart, ticks))
        assert not overlapping(chart, ticks, gap=gap), (width, overlapping(chart, ticks, gap=gap))
