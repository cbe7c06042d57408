"""Cache-first dataset access: fetched once, served from the cache after, re-fetched when corrupt."""

from __future__ import annotations

import pandas as pd
import pytest

from phi.data import cache, store
from phi.data.fetchers import fetch
from phi.data.schema import ohlcv_hash
from phi.errors import ConfigError, SymbolError


@pytest.fixture
def count_fetches(monkeypatch):
    import phi.data.fetchers as fetchers

    calls: list[tuple] = []

    original = fetchers.fetch_result

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(fetchers, "fetch_result", counting)
    return calls


def test_second_request_and_sub_range_come_from_the_cache(count_fetches):
    full = store.get_dataset("DEMO", "2020-01-01", "2021-12-31")
    assert not full.from_cache and len(count_fetches) == 1
    again = store.get_dataset("DEMO", "2020-01-01", "2021-12-31")
    assert again.from_cache and len(count_fetches) == 1
    pd.testing.assert_frame_equal(again.frame, full.frame)

    inner = store.get_dataset("DEMO", "2020-06-01", "2020-06-30")
    assert inner.from_cache and len(count_fetches) == 1
    expected = fetch("DEMO", "2020-06-01", "2020-06-30")
    pd.testing.assert_frame_equal(inner.frame, expected, check_freq=False)
    assert inner.metadata["content_hash"] == ohlcv_hash(expected)
    assert inner.metadata["requested_start"] == "2020-06-01" and inner.metadata["rows"] == len(expected)


def test_metadata_records_provenance_and_health():
    ds = store.get_dataset("DEMO", "2021-01-01", "2021-03-31")
    meta = ds.metadata
    assert meta["vendor"] == "demo" and meta["symbol"] == "DEMO" and meta["synthetic"] is True
    assert meta["adjustment"] == "synthetic" and meta["health"]["status"] in {"ok", "warn"}
    assert ds.synthetic and ds.content_hash == ohlcv_hash(ds.frame)
    on_disk = cache.load_metadata("demo", "DEMO", "1D", "2021-01-01", "2021-03-31")
    assert on_disk is not None and on_disk["health"] == meta["health"]


def test_corrupt_cache_file_is_refetched(count_fetches):
    store.get_dataset("DEMO", "2020-01-01", "2020-12-31")
    parquet = cache.dataset_paths("demo", "DEMO", "1D", "2020-01-01", "2020-12-31")[0]
    parquet.write_bytes(b"PAR1 not really parquet")
    with pytest.warns(cache.CacheWarning, match="corrupt"):
        ds = store.get_dataset("DEMO", "2020-01-01", "2020-12-31")
    assert not ds.from_cache and len(count_fetches) == 2
    assert cache.load_dataset("demo", "DEMO", "1D", "2020-01-01", "2020-12-31") is not None


def test_refresh_refetches(count_fetches):
    store.get_dataset("DEMO", "2020-01-01", "2020-02-01")
    store.get_dataset("DEMO", "2020-01-01", "2020-02-01", refresh=True)
    assert len(count_fetches) == 2


def test_unwritable_cache_still_returns_the_data(monkeypatch):
    def deny(*a, **k):
        raise cache.CacheError("cannot write /x: Permission denied")

    monkeypatch.setattr(cache, "save_dataset", deny)
    with pytest.warns(cache.CacheWarning, match="could not cache"):
        ds = store.get_dataset("DEMO", "2020-01-01", "2020-02-01")
    assert len(ds.frame) > 0


def test_bad_requests_are_clear_errors():
    with pytest.raises(SymbolError, match="only letters"):
        store.get_dataset("../../etc", "2020-01-01", "2020-02-01")
    with pytest.raises(ConfigError, match="after"):
        store.get_dataset("DEMO", "2020-02-01", "2020-01-01")
    with pytest.raises(ConfigError, match="timeframe"):
        store.get_dataset("DEMO", "2020-01-01", "2020-02-01", timeframe="2D")
    with pytest.raises(ConfigError, match="vendor"):
        store.get_dataset("DEMO", "2020-01-01", "2020-02-01", vendor="yahooo")


def test_csv_is_read_not_cached(tmp_path):
    df = fetch("DEMO", "2020-01-01", "2020-03-31")
    path = tmp_path / "mine.csv"
    df.rename_axis("Date").rename(columns=str.title).to_csv(path)
    ds = store.get_dataset("MINE", "2020-01-01", "2020-03-31", vendor="csv", path=str(path))
    assert len(ds.frame) == len(df) and not ds.from_cache
    assert cache.list_cached_datasets() == []


def test_intraday_sub_range_from_the_cache_equals_a_fresh_fetch(count_fetches):
    store.get_dataset("DEMO", "2024-03-01", "2024-03-29", timeframe="15m")
    inner = store.get_dataset("DEMO", "2024-03-08", "2024-03-12", timeframe="15m")  # spans the DST change
    assert inner.from_cache and len(count_fetches) == 1
    pd.testing.assert_frame_equal(inner.frame, fetch("DEMO", "2024-03-08", "2024-03-12", "15m"), check_freq=False)
