"""The Regime view's optional GEX panel: upload an option chain (checked and stored like Step 4's)
and see its four GEX features as of each bar (:func:`phi.options.gex.gex_regime_inputs`), beside
the regime result. The calibrated regime taxonomy does not use them."""

from __future__ import annotations

import hashlib
from typing import Final

import pandas as pd
import streamlit as st

from app_streamlit import ui

UPLOAD: Final = "regime:chain_upload"
_SEEN: Final = "regime:chain_seen"
SHOWN: Final = 20


@st.cache_data(max_entries=4, show_spinner="Computing the chain's gamma exposure ...")
def _inputs(_frame: pd.DataFrame, content_hash: str, chain_path: str) -> pd.DataFrame:
    from phi.options.gex import gex_regime_inputs

    return gex_regime_inputs(_frame, chain_path)


def _named(frame: pd.DataFrame, content_hash: str, path: str, name: str) -> pd.DataFrame:
    """:func:`_inputs`, its errors naming the file as the user uploaded it (not the stored copy)."""
    from phi.errors import PhiError

    try:
        return _inputs(frame, content_hash, path)
    except PhiError as exc:
        raise type(exc)(str(exc).replace(path, repr(name), 1)) from None


def render(frame: pd.DataFrame, content_hash: str) -> None:
    """The expander with the chain uploader and, given a good chain, the as-of GEX table."""
    from app_streamlit.views.options_form import store_chain

    with st.expander("GEX from an option chain (optional; not used by the regime taxonomy)"):
        upload = st.file_uploader(
            "Option chain CSV with open interest", type=["csv", "txt"], key=UPLOAD,
            help="Each bar sees the latest chain dated on or before its day (before it, for intraday "
            "bars), at most 4 days old; older or missing chains stay blank.",
        )  # fmt: skip
        if upload is None:
            return
        data = upload.getvalue()
        seen = (upload.name, hashlib.sha256(data).hexdigest())
        if st.session_state.get(_SEEN, (None, None, None))[:2] != seen:
            st.session_state[_SEEN] = (*seen, store_chain(data, upload.name))
        path, problem = st.session_state[_SEEN][2]
        if problem:
            st.error(problem)
            return
        gex = ui.attempt(_named, frame, content_hash, path, upload.name)
        if isinstance(gex, ui.Failed):
            return
        st.caption(
            f"The calibrated regime taxonomy does not use these columns. {gex.attrs['gex_missing']:,} of "
            f"{len(gex):,} bars have no chain at most {gex.attrs['gex_max_age_days']} days old (left blank). "
            f"Last {min(SHOWN, len(gex))} bars:"
        )
        st.dataframe(gex.iloc[-SHOWN:], key="regime:table:gex")
