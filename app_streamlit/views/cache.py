"""Cache manager: every cached dataset with its metadata and data health; delete one, or clear
the whole cache, each after a confirmation."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import ui

SELECTED = "cache:selected"
DELETE = "cache:delete"
CLEAR = "cache:clear"
CONFIRM_DELETE = "cache:confirm_delete"
CONFIRM_CLEAR = "cache:confirm_clear"


def _label(m: dict[str, Any]) -> str:
    return f"{m.get('vendor')} / {m.get('symbol')} / {m.get('timeframe')} / {m.get('start')} .. {m.get('end')}"


def cache_table(metas: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "vendor": m.get("vendor"),
            "symbol": m.get("symbol"),
            "timeframe": m.get("timeframe"),
            "start": m.get("start"),
            "end": m.get("end"),
            "rows": m.get("rows"),
            "health": (m.get("health") or {}).get("status", "?"),
            "adjustment": m.get("adjustment"),
            "synthetic": bool(m.get("synthetic", False)),
            "fetched (UTC)": str(m.get("fetched_at", ""))[:16].replace("T", " "),
            "dataset id": m.get("dataset_id"),
        }
        for m in metas
    ]
    return pd.DataFrame(rows)


def _details(meta: dict[str, Any]) -> None:
    from phi.data.health import HealthReport

    health = meta.get("health")
    if health:
        report = HealthReport.from_dict(health)
        st.markdown(f"Data health: **{report.status}**")
        st.markdown("\n".join(f"- {line}" for line in report.summary_lines()))
    with st.expander("Metadata"):
        st.json({k: v for k, v in meta.items() if k != "health"}, expanded=False)


def render() -> None:
    from phi.data.cache import clear_all_cache, delete_dataset, list_cached_datasets
    from phi.paths import cache_root

    st.subheader("Cache manager")
    ui.show_flash()
    metas = ui.attempt(list_cached_datasets)
    if isinstance(metas, ui.Failed):
        return
    st.caption(f"Cache folder: {cache_root()}")
    if not metas:
        st.info("The cache is empty: datasets you fetch in the Workbench are cached here.")
        return
    st.dataframe(cache_table(metas), hide_index=True, key="cache:table",
                 column_config={"rows": st.column_config.NumberColumn("rows", format="localized")})  # 1,305  # fmt: skip
    labels = [_label(m) for m in metas]
    c = st.columns([4, 1, 1])
    choice = c[0].selectbox("Dataset", labels, key=SELECTED)
    meta = metas[labels.index(choice)] if choice in labels else metas[0]
    if c[1].button("Delete", key=DELETE):
        st.session_state[CONFIRM_DELETE] = _label(meta)
        st.session_state.pop(CONFIRM_CLEAR, None)
    if c[2].button("Clear all cache", key=CLEAR):
        st.session_state[CONFIRM_CLEAR] = True
        st.session_state.pop(CONFIRM_DELETE, None)
    _details(meta)

    pending = st.session_state.get(CONFIRM_DELETE)
    target = next((m for m in metas if _label(m) == pending), None) if pending else None
    if pending and target is None:  # deleted meanwhile (another tab, phi cache clear)
        st.session_state.pop(CONFIRM_DELETE, None)
        st.info(f"{pending} is no longer in the cache (deleted elsewhere); nothing to delete.")
        pending = None
    if pending and target is not None:
        st.warning(f"Delete the cached dataset {pending}? It will be fetched again when next used.")
        d = st.columns([1, 1, 4])
        if d[0].button("Yes, delete", key=f"{CONFIRM_DELETE}:yes", type="primary"):
            st.session_state.pop(CONFIRM_DELETE, None)
            ok = ui.attempt(
                delete_dataset, target["vendor"], target["symbol"], target["timeframe"], target["start"], target["end"]
            )
            if not isinstance(ok, ui.Failed):
                ui.flash(f"Deleted {pending}." if ok else f"{pending} was already gone.")
                st.rerun()
        if d[1].button("Keep it", key=f"{CONFIRM_DELETE}:no"):
            st.session_state.pop(CONFIRM_DELETE, None)
            st.rerun()
    if st.session_state.get(CONFIRM_CLEAR):
        st.warning(f"Delete all {len(metas)} cached dataset(s)? They will be fetched again when next used.")
        d = st.columns([1, 1, 4])
        if d[0].button("Yes, clear all", key=f"{CONFIRM_CLEAR}:yes", type="primary"):
            st.session_state.pop(CONFIRM_CLEAR, None)
            removed = ui.attempt(clear_all_cache)
            if not isinstance(removed, ui.Failed):
                ui.flash(f"Removed {removed} cached dataset(s).")
                st.rerun()
        if d[1].button("Keep them", key=f"{CONFIRM_CLEAR}:no"):
            st.session_state.pop(CONFIRM_CLEAR, None)
            st.rerun()
