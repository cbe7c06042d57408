"""Step 1 — Dataset: autoload of the demo, fetch/use cached, summary, candlestick, health,
vendor limits explained in the form, and bad input shown in the page."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from phi.backtest.metrics import buy_and_hold_return
from phi.data.cache import dataset_paths, list_cached_datasets
from phi.data.store import get_dataset
from tests.app.conftest import assert_clean, errors, figure, html_text, start, warnings_


def test_first_visit_loads_the_demo_dataset(app):
    ds = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo")
    text = html_text(app)
    assert "SYNTHETIC DEMO DATA" in text
    assert f"{len(ds.frame):,}" in text  # bars in the summary strip
    assert "2020-01-01" in text and "2024-12-31" in text
    bh = buy_and_hold_return(ds.frame["close"].to_numpy())
    assert f"{bh:+.2%}" in text
    assert f"{ds.frame['close'].iloc[-1]:,.2f}" in text
    spec = figure(app, "chart:dataset")
    candle = spec["data"][0]
    assert candle["type"] == "candlestick"
    assert len(candle["x"]) == len(ds.frame)
    np.testing.assert_allclose(candle["close"], ds.frame["close"].to_numpy())
    np.testing.assert_allclose(candle["high"], ds.frame["high"].to_numpy())
    # the autoload cached it, so "Use cached" is enabled
    assert not app.button(key="ds:use_cached").disabled
    assert [m["symbol"] for m in list_cached_datasets()] == ["DEMO"]
    # the health report is shown before any run
    assert any(e.label.startswith("Data health: ") for e in app.expander)
    assert "no problems found" in text


def test_fetch_another_symbol_and_use_cached(app):
    app.text_input(key="ds:symbol").set_value("ABC").run()
    assert app.button(key="ds:use_cached").disabled  # nothing cached for ABC yet
    app.button(key="ds:fetch").click().run()
    assert_clean(app)
    assert "ABC · demo · 1D" in html_text(app)
    assert not app.button(key="ds:use_cached").disabled
    # a narrower range inside the cached one is served from the cache
    app.date_input(key="ds:start").set_value(dt.date(2022, 1, 3)).run()
    assert not app.button(key="ds:use_cached").disabled
    app.button(key="ds:use_cached").click().run()
    assert_clean(app)
    assert "from the cache" in html_text(app)
    spec = figure(app, "chart:dataset")
    assert spec["data"][0]["x"][0].startswith("2022-01-03")


def test_timeframe_and_capital(app):
    app.selectbox(key="ds:timeframe").set_value("1H")
    app.date_input(key="ds:start").set_value(dt.date(2024, 1, 1))
    app.date_input(key="ds:end").set_value(dt.date(2024, 3, 31)).run()
    app.button(key="ds:fetch").click().run()
    assert_clean(app)
    ds = get_dataset("DEMO", "2024-01-01", "2024-03-31", "1H", "demo")
    assert f"{len(ds.frame):,}" in html_text(app)
    assert "DEMO · demo · 1H" in html_text(app)


def test_reversed_dates_show_an_error_and_keep_the_dataset(app):
    before = figure(app, "chart:dataset")
    app.date_input(key="ds:start").set_value(dt.date(2024, 6, 1))
    app.date_input(key="ds:end").set_value(dt.date(2024, 1, 1)).run()
    assert not app.exception
    assert any("after end" in e and "swap" in e for e in errors(app))
    assert app.button(key="ds:fetch").disabled
    # nothing lost: the loaded dataset and the form values stay
    assert figure(app, "chart:dataset") == before
    assert app.date_input(key="ds:start").value == dt.date(2024, 6, 1)


def test_malformed_symbol_is_an_error_in_the_page(app):
    app.text_input(key="ds:symbol").set_value("../etc").run()
    assert not app.exception
    assert any("../etc" in e for e in errors(app))
    assert app.button(key="ds:fetch").disabled


def test_unknown_symbol_from_a_vendor_is_an_error(app, monkeypatch):
    from phi.data.vendors import yfinance_vendor

    def no_data(symbol, start, end, interval, session=None):
        return pd.DataFrame(), [f"${symbol}: possibly delisted; no price data found"]

    monkeypatch.setattr(yfinance_vendor, "request_history", no_data)
    app.selectbox(key="ds:vendor").set_value("yfinance")
    app.text_input(key="ds:symbol").set_value("ZZZZQ").run()
    app.button(key="ds:fetch").click().run()
    assert not app.exception
    msgs = errors(app)
    assert any("ZZZZQ" in e and "no data" in e for e in msgs), msgs
    # the previously loaded demo dataset is still shown
    assert "DEMO · demo · 1D" in html_text(app)


def test_vendor_limits_are_explained_before_any_request(app, monkeypatch):
    from phi.data.vendors import yfinance_vendor

    def boom(*a, **k):  # pragma: no cover - must not be called
        raise AssertionError("no request may be made")

    monkeypatch.setattr(yfinance_vendor, "request_history", boom)
    app.selectbox(key="ds:vendor").set_value("yfinance")
    app.selectbox(key="ds:timeframe").set_value("15m").run()
    captions = " ".join(c.value for c in app.caption)
    assert "last 59 days" in captions and "earliest start" in captions
    assert any("before the earliest 15m bar" in e for e in errors(app))
    assert app.button(key="ds:fetch").disabled


def test_alpha_vantage_without_key_is_explained(app):
    app.selectbox(key="ds:vendor").set_value("alpha_vantage").run()
    assert any("ALPHAVANTAGE_API_KEY" in e for e in errors(app))
    assert app.button(key="ds:fetch").disabled


def test_corrupt_cache_entry_is_a_warning_not_a_crash(app):
    parquet, _ = dataset_paths("demo", "DEMO", "1D", "2020-01-01", "2024-12-31")
    parquet.write_bytes(b"not a parquet file")
    app.button(key="ds:use_cached").click().run()
    assert not app.exception and not errors(app)
    assert any("corrupt cache file" in w for w in warnings_(app))
    assert "DEMO · demo · 1D" in html_text(app)  # re-fetched (demo regenerates)


def _csv_bytes(n: int = 300) -> bytes:
    ds = get_dataset("CSVSRC", "2021-01-01", "2022-12-31", "1D", "demo")
    frame = ds.frame.iloc[:n].copy()
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    return frame.rename(columns=str.title).to_csv().encode()


def test_csv_upload_loads_and_a_malformed_csv_is_an_error():
    at = start()
    at.selectbox(key="ds:vendor").set_value("csv").run()
    assert at.button(key="ds:fetch").disabled  # no file yet
    assert at.button(key="ds:fetch").label == "Load file"  # CSV files are read, never cached
    at.text_input(key="ds:symbol").set_value("").run()
    at.file_uploader(key="ds:upload").upload("my fund.csv", _csv_bytes(), "text/csv").run()
    at.button(key="ds:fetch").click().run()
    assert_clean(at)
    text = html_text(at)
    # the symbol comes from the file's own name, not from the stored (hashed) copy
    assert "MY_FUND · csv · 1D" in text
    assert "300" in text
    # the file's own range is shown, and health coverage is measured against it
    src = get_dataset("CSVSRC", "2021-01-01", "2022-12-31", "1D", "demo").frame.iloc[:300]
    assert f"{src.index[0]:%Y-%m-%d}" in text and f"{src.index[-1]:%Y-%m-%d}" in text
    assert at.session_state["data:spec"]["start"] == f"{src.index[0]:%Y-%m-%d}"
    assert at.session_state["data:spec"]["end"] == f"{src.index[-1]:%Y-%m-%d}"
    assert any(e.label == "Data health: ok" for e in at.expander), [e.label for e in at.expander]

    bad = b"when,price\nyesterday,abc\ntoday,12\n"
    at.file_uploader(key="ds:upload").upload("BROKEN.csv", bad, "text/csv").run()
    at.button(key="ds:fetch").click().run()
    assert not at.exception
    msgs = errors(at)
    assert msgs, "a malformed CSV must show an error"
    assert any("Still loaded: MY_FUND 1D" in e for e in msgs), msgs  # and it names what is still loaded
    assert "MY_FUND · csv · 1D" in html_text(at)  # the good dataset is kept


def test_large_dataset_candles_are_thinned_for_display():
    at = start()
    at.selectbox(key="ds:timeframe").set_value("5m")
    at.date_input(key="ds:start").set_value(dt.date(2024, 1, 1))
    at.date_input(key="ds:end").set_value(dt.date(2024, 6, 30)).run()
    at.button(key="ds:fetch").click().run()
    assert_clean(at)
    ds = get_dataset("DEMO", "2024-01-01", "2024-06-30", "5m", "demo")
    spec = figure(at, "chart:dataset")
    assert len(spec["data"][0]["x"]) <= 2_500 < len(ds.frame)
    assert "display thinned" in spec["layout"]["title"]["text"]
    assert np.max(spec["data"][0]["high"]) == ds.frame["high"].max()
    assert any("Display only" in c.value for c in at.caption)


def test_an_upload_that_cannot_be_stored_is_one_error_not_an_exception(monkeypatch):
    from phi.errors import DataError

    def refuse(data, name):
        raise DataError("cannot write /x/uploads/my.csv: read-only file system")

    monkeypatch.setattr("phi.data.uploads.store_upload", refuse)
    at = start()
    at.selectbox(key="ds:vendor").set_value("csv").run()
    at.file_uploader(key="ds:upload").upload("my fund.csv", _csv_bytes(), "text/csv").run()
    assert not at.exception
    assert any("read-only file system" in e for e in errors(at)), errors(at)
    assert at.button(key="ds:fetch").disabled  # nothing to load until the file is stored
