from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phi.data import cache
from phi.data.schema import ohlcv_hash
from phi.errors import CacheError, SymbolError
from phi.paths import cache_root
from tests.conftest import make_ohlcv

ARGS = ("demo", "AAPL", "1D", "2020-01-01", "2021-12-31")


def test_layout_follows_the_spec(_isolated_phi_home):
    df = make_ohlcv(100)
    path = cache.save_dataset(df, *ARGS)
    base = _isolated_phi_home / "data_cache" / "demo" / "AAPL" / "1D"
    assert path == base / "2020-01-01_2021-12-31.parquet"
    meta = json.loads((base / "2020-01-01_2021-12-31_metadata.json").read_text())
    assert meta["vendor"] == "demo" and meta["symbol"] == "AAPL" and meta["rows"] == 100
    assert meta["first_bar"] == df.index[0].isoformat() and meta["last_bar"] == df.index[-1].isoformat()
    assert meta["content_hash"] == ohlcv_hash(df) and "fetched_at" in meta
    assert cache.is_cached(*ARGS)
    assert not list(base.glob(".*.tmp"))


def test_phi_home_moves_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PHI_HOME", str(tmp_path / "elsewhere"))
    cache.save_dataset(make_ohlcv(10), *ARGS)
    assert (tmp_path / "elsewhere" / "data_cache" / "demo" / "AAPL").is_dir()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 300), seed=st.integers(0, 1000), freq=st.sampled_from(["B", "h", "5min", "D"]))
def test_round_trip_is_exact(n, seed, freq):
    df = make_ohlcv(n, seed=seed, freq=freq)
    cache.save_dataset(df, *ARGS)
    out = cache.load_dataset(*ARGS)
    assert out is not None
    pd.testing.assert_frame_equal(out, df, check_freq=False)


@pytest.mark.parametrize("symbol", ["BRK-B", "^GSPC", "EURUSD=X", "BF.B", "btc_usd"])
def test_real_tickers_are_accepted(symbol):
    cache.save_dataset(make_ohlcv(5), "demo", symbol, "1D", "2020-01-01", "2020-01-10")
    assert cache.is_cached("demo", symbol, "1D", "2020-01-01", "2020-01-10")


@pytest.mark.parametrize("symbol", ["../../etc", "a/b", "..", ".hidden", "a\\b", "", "x" * 40, "A B"])
def test_path_traversal_symbols_are_rejected(symbol, _isolated_phi_home):
    with pytest.raises(SymbolError):
        cache.save_dataset(make_ohlcv(5), "demo", symbol, "1D", "2020-01-01", "2020-01-10")
    written = [p for p in _isolated_phi_home.rglob("*") if p.is_file()]
    assert written == []


def test_corrupt_parquet_is_a_miss_with_a_warning():
    path = cache.save_dataset(make_ohlcv(50), *ARGS)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with pytest.warns(cache.CacheWarning, match="corrupt"):
        assert cache.load_dataset(*ARGS) is None


def test_parquet_not_matching_its_hash_is_a_miss():
    path = cache.save_dataset(make_ohlcv(50), *ARGS)
    make_ohlcv(50, seed=9).to_parquet(path)
    with pytest.warns(cache.CacheWarning, match="does not match"):
        assert cache.load_dataset(*ARGS) is None


def test_truncated_metadata_is_a_miss_with_a_warning():
    cache.save_dataset(make_ohlcv(50), *ARGS)
    meta = cache.dataset_paths(*ARGS)[1]
    meta.write_text(meta.read_text()[:40])
    with pytest.warns(cache.CacheWarning, match="unreadable"):
        assert cache.load_dataset(*ARGS) is None
    with pytest.warns(cache.CacheWarning):
        assert cache.list_cached_datasets() == []


def test_find_covering_picks_the_narrowest_range():
    cache.save_dataset(make_ohlcv(10), "demo", "AAPL", "1D", "2019-01-01", "2022-12-31")
    cache.save_dataset(make_ohlcv(10), "demo", "AAPL", "1D", "2020-01-01", "2021-12-31")
    meta = cache.find_covering("demo", "AAPL", "1D", "2020-06-01", "2020-07-01")
    assert meta is not None and (meta["start"], meta["end"]) == ("2020-01-01", "2021-12-31")
    assert cache.find_covering("demo", "AAPL", "1D", "2018-06-01", "2020-07-01") is None


def test_list_and_clear():
    cache.save_dataset(make_ohlcv(10), *ARGS)
    cache.save_dataset(make_ohlcv(10), "demo", "MSFT", "1H", "2020-01-01", "2020-02-01")
    listed = cache.list_cached_datasets()
    assert {m["symbol"] for m in listed} == {"AAPL", "MSFT"}
    assert cache.clear_all_cache() == 2
    assert cache.list_cached_datasets() == []
    assert cache.clear_all_cache() == 0


@pytest.mark.skipif(os.geteuid() == 0 and sys.platform != "win32", reason="root ignores permissions")
def test_read_only_cache_dir_is_a_clear_error():  # pragma: no cover - CI runs as root
    root = cache_root()
    root.mkdir(parents=True)
    root.chmod(0o500)
    try:
        with pytest.raises(CacheError, match="cannot write"):
            cache.save_dataset(make_ohlcv(10), *ARGS)
    finally:
        root.chmod(0o700)


def test_read_only_cache_dir_via_failing_mkdir(monkeypatch):
    """Root ignores chmod, so simulate a read-only directory at the OS call."""
    import tempfile

    def deny(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", deny)
    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(CacheError, match="cannot write .*Permission denied"):
        cache.save_dataset(make_ohlcv(10), *ARGS)
    assert not cache.dataset_paths(*ARGS)[0].exists()


def test_concurrent_writers_leave_one_valid_file(_isolated_phi_home):
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[2])
        from tests.conftest import make_ohlcv
        from phi.data import cache
        df = make_ohlcv(20000, seed=int(sys.argv[1]))
        for _ in range(15):
            cache.save_dataset(df, "demo", "AAPL", "1D", "2020-01-01", "2021-12-31")
        """
    )
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PHI_HOME=str(_isolated_phi_home))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(seed), repo], env=env) for seed in (1, 2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    out = cache.load_dataset(*ARGS)
    assert out is not None  # both files whole, and parquet and metadata agree
    assert ohlcv_hash(out) in {ohlcv_hash(make_ohlcv(20000, seed=s)) for s in (1, 2)}
    parquet = cache.dataset_paths(*ARGS)[0]
    assert sorted(p.name for p in parquet.parent.iterdir() if not p.name.startswith(".")) == [
        "2020-01-01_2021-12-31.parquet",
        "2020-01-01_2021-12-31_metadata.json",
    ]


def test_unreadable_values_never_crash_listing(_isolated_phi_home):
    cache.save_dataset(make_ohlcv(10), *ARGS)
    stray = cache.dataset_dir("demo", "AAPL", "1D") / "x_metadata.json"
    stray.write_text(json.dumps([1, 2]))
    with pytest.warns(cache.CacheWarning):
        assert len(cache.list_cached_datasets()) == 1


def test_cached_files_get_normal_permissions():
    path = cache.save_dataset(make_ohlcv(5), *ARGS)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
