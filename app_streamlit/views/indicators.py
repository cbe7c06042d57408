"""Step 2 — Indicators: a searchable catalogue beside the selected cards.

Each card has an enable toggle, a remove button and one widget per declared
:class:`~phi.indicators.params.ParamSpec` (range, step and help from the spec, nothing declared
twice), plus a mini chart of the indicator's signal on the loaded dataset.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_streamlit import charts, forms, ui

ADD_ICON = ":material/add:"
ADDED_ICON = ":material/check:"


def _add(name: str) -> None:
    selected = st.session_state.setdefault(forms.IND_SELECTED, [])
    if name not in selected:
        selected.append(name)


def _remove(name: str) -> None:
    from phi.indicators.registry import get_indicator

    selected = st.session_state.setdefault(forms.IND_SELECTED, [])
    if name in selected:
        selected.remove(name)
    # a re-added indicator starts again from its defaults
    for key in [forms.ind_enabled(name), forms.bl_weight(name)] + [
        forms.ind_param(name, p.name) for p in get_indicator(name).params
    ]:
        st.session_state.pop(key, None)


def _matches(spec: Any, query: str) -> bool:
    from phi.indicators.params import TYPE_MEANINGS

    text = f"{spec.name} {spec.type} {TYPE_MEANINGS.get(spec.type, '')} {spec.description} {' '.join(spec.inputs)}".lower()
    return all(word in text for word in query.lower().split())


def _param_widget(container: Any, name: str, p: Any) -> None:
    key = forms.ind_param(name, p.name)
    if p.kind is int:
        container.slider(
            p.name, min_value=int(p.low), max_value=int(p.high), value=int(p.default), step=int(p.step),
            key=key, help=p.description, persist_state="session",
        )  # fmt: skip
    else:
        container.slider(
            p.name, min_value=float(p.low), max_value=float(p.high), value=float(p.default),
            step=float(p.step), key=key, help=p.description, persist_state="session",
        )  # fmt: skip


def mini_chart(ds: Any, name: str, params: dict[str, Any]) -> charts.Chart:
    """The signal chart of one indicator on the loaded bars (kept per data, name and parameters)."""
    from phi.indicators.registry import compute_signal

    def build() -> charts.Chart:
        sig = compute_signal(name, ds.frame, params)
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        return charts.signal_mini(sig, title=f"{name}({shown}) signal")

    return ui.memo("mini", (ds.content_hash, name, tuple(sorted(params.items()))), build, max_entries=32)


def catalogue() -> None:
    """The searchable list with an Add button per indicator."""
    from phi.indicators.params import TYPE_MEANINGS
    from phi.indicators.registry import INDICATORS

    query = st.text_input(
        "Search indicators", key=forms.IND_SEARCH, placeholder="rsi, trend, volume ...", persist_state="session"
    )
    selected = forms.selected_indicators(st.session_state)
    found = [spec for spec in INDICATORS.values() if _matches(spec, query or "")]
    if not found:
        st.caption(f"No indicator matches {query!r}.")
    with st.container(height=430):
        for spec in found:
            a, b = st.columns([5, 1.3], vertical_alignment="center")
            a.markdown(
                f"**{spec.name}** · {spec.type} {TYPE_MEANINGS.get(spec.type, '')}  \n"
                f"<span style='font-size:0.82rem;color:#9ca3af'>{spec.description}</span>",
                unsafe_allow_html=True,
            )
            # an icon, not a word: the button's column is ~55 px and "Add"/"Added" showed as "A…"
            added = spec.name in selected
            b.button(
                "", key=forms.ind_add(spec.name), icon=ADDED_ICON if added else ADD_ICON, disabled=added,
                help=f"{spec.name} is selected (its card is on the right)" if added else f"Add {spec.name}",
                on_click=_add, args=(spec.name,),
            )  # fmt: skip


def card(name: str, ds: Any) -> None:
    """One selected indicator: enable, remove, parameter widgets and the mini chart."""
    from phi.indicators.params import TYPE_MEANINGS
    from phi.indicators.registry import get_indicator

    spec = get_indicator(name)
    with st.container(border=True):
        a, b, c = st.columns([4, 1.4, 1.2], vertical_alignment="center")
        a.markdown(f"**{spec.name}** — {spec.description} ({spec.type}, {TYPE_MEANINGS.get(spec.type, '')})")
        enabled = b.toggle("Enabled", value=True, key=forms.ind_enabled(name), persist_state="session")
        c.button("Remove", key=forms.ind_remove(name), on_click=_remove, args=(name,))
        if spec.params:
            cols = st.columns(min(3, len(spec.params)))
            for i, p in enumerate(spec.params):
                _param_widget(cols[i % len(cols)], name, p)
        else:
            st.caption("No parameters.")
        st.caption(f"Signal: {spec.signal_mapping}")
        if not enabled or ds is None or not ui.section_open(forms.SECTIONS[2]):
            return
        params = forms.indicator_params(st.session_state, name)
        chart = ui.attempt(mini_chart, ds, name, params)
        if not isinstance(chart, ui.Failed):
            ui.show_chart(chart, key=f"chart:ind:{name}")


def render() -> None:
    left, right = st.columns([1, 2], gap="large")
    with left:
        catalogue()
    with right:
        selected = forms.selected_indicators(st.session_state)
        st.markdown(f"**Selected ({len(selected)})**")
        if not selected:
            st.info("No indicator selected: add one from the list.")
        ds = st.session_state.get(forms.DATASET)
        for name in selected:
            card(name, ds)
