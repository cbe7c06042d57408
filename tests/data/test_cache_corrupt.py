"""One corrupt cache file never breaks a listing or a fetch: it is skipped with a one-line
warning, and ``get_dataset`` treats it as a miss and fetches again."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from phi.cli import main
from phi.data import cache, store
from phi.data.fetchers import fetch
from tests.conftest import make_ohlcv

RANGE = ("demo", "DEMO", "1D", "2022-01-01", "2022-12-31")
OTHER = ("demo", "MSFT", "1H", "2020-01-01", "2020-02-01")


def _edit(field: str, value: object):
    def apply(path: Path) -> None:
        meta = json.loads(path.read_text())
        meta[field] = value
        path.write_text(json.dumps(meta))

    return apply


def _write(data: bytes):
    return lambda path: path.write_bytes(data)


def _nested_health(path: Path) -> None:
    meta = json.loads(path.read_text())
    meta["health"]["gaps"] = json.loads("[" * 200 + "]" * 200)
    path.write_text(json.dumps(meta))


def _latin1(path: Path) -> None:
    path.write_bytes(path.read_text().replace("synthetic", "synth\u00e9tic").encode("latin-1"))


def _utf16(path: Path) -> None:
    path.write_bytes(path.read_text().encode("utf-16"))


def _moved(path: Path) -> None:
    """A valid metadata file of another range copied over this one."""
    meta = json.loads(path.read_text())
    meta.update(start="2022-01-01", end="2023-12-31")
    path.write_text(json.dumps(meta))


CORRUPTIONS = {
    "rows many": _edit("rows", "many"),
    "rows bool": _edit("rows", True),
    "rows negative": _edit("rows", -5),
    "rows NaN": lambda p: p.write_text(p.read_text().replace('"rows": ', '"rows": NaN, "x": ')),
    "rows 5000 digits": lambda p: p.write_text(p.read_text().replace('"rows": ', '"rows": ' + "9" * 5000 + ', "x": ')),
    "start 0000": _edit("start", "0000"),
    "end 9999": _edit("end", "9999"),
    "start year 0": _edit("start", "0000-01-01"),
    "end year 9999": _edit("end", "9999-12-31"),
    "start month 99": _edit("start", "2022-99-99"),
    "start after end": _edit("start", "2023-06-01"),
    "first bar year 9999": _edit("first_bar", "9999-01-01T00:00:00+00:00"),
    "start int": _edit("start", 20220101),
    "fetched_at int": _edit("fetched_at", 5),
    "symbol list": _edit("symbol", ["DEMO"]),
    "timeframe 2D": _edit("timeframe", "2D"),
    "health str": _edit("health", "x"),
    "health rows str": lambda p: _edit("health", {**json.loads(p.read_text())["health"], "rows": "x"})(p),
    "health nested": _nested_health,
    "repairs str": _edit("repairs", "fixed"),
    "exchange_tz int": _edit("exchange_tz", 5),
    "exchange_tz unknown": _edit("exchange_tz", "Mars/Olympus_Mons"),
    "no content hash": _edit("content_hash", None),
    "newer schema": _edit("schema_version", 99),
    "another range's metadata": _moved,
    "nested 100000 deep": _write(b"[" * 100_000 + b"]" * 100_000),
    "nested objects": _write(b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "latin-1": _latin1,
    "utf-16": _utf16,
    "binary": _write(bytes(range(256)) * 4),
    "json array": _write(b"[1, 2]"),
    "json null": _write(b"null"),
    "empty": _write(b""),
    "truncated": lambda p: p.write_text(p.read_text()[:50]),
    "too large": _write(b'{"pad": "' + b"x" * (cache.MAX_METADATA_BYTES + 10) + b'"}'),
}


def _single_warning(record: list[warnings.WarningMessage], path: Path) -> str:
    msgs = [str(w.message) for w in record if issubclass(w.category, cache.CacheWarning)]
    assert len(msgs) == 1, msgs
    assert str(path) in msgs[0] and "\n" not in msgs[0]
    return msgs[0]


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupt_metadata_is_skipped_in_the_listing(name):
    store.get_dataset("DEMO", "2022-01-01", "2022-12-31")  # with a health report
    cache.save_dataset(make_ohlcv(30, seed=2, freq="h"), *OTHER)
    meta_path = cache.dataset_paths(*RANGE)[1]
    CORRUPTIONS[name](meta_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        listed = cache.list_cached_datasets()
    assert [m["symbol"] for m in listed] == ["MSFT"]
    _single_warning(record, meta_path)


REFETCH = [
    "rows many", "start 0000", "end 9999", "end year 9999", "start after end", "health str",
    "exchange_tz unknown", "another range's metadata", "nested 100000 deep", "latin-1", "binary",
]


@pytest.mark.parametrize("name", REFETCH)
def test_corrupt_metadata_is_a_miss_and_refetched(name):
    first = store.get_dataset("DEMO", "2022-01-01", "2022-12-31")
    meta_path = cache.dataset_paths(*RANGE)[1]
    CORRUPTIONS[name](meta_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        again = store.get_dataset("DEMO", "2022-03-01", "2022-03-31")
    _single_warning(record, meta_path)
    assert not again.from_cache
    pd.testing.assert_frame_equal(again.frame, fetch("DEMO", "2022-03-01", "2022-03-31"), check_freq=False)
    # a request of the same range re-fetches it and overwrites the bad file with a good one
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        whole = store.get_dataset("DEMO", "2022-01-01", "2022-12-31")
    assert not whole.from_cache
    _single_warning(record, meta_path)
    pd.testing.assert_frame_equal(whole.frame, first.frame)
    assert store.get_dataset("DEMO", "2022-01-01", "2022-12-31").from_cache


@pytest.mark.parametrize("name", ["rows many", "start 0000", "nested 100000 deep", "latin-1", "health str"])
def test_cli_cache_list_and_fetch_survive(capsys, name):
    assert main(["fetch", "DEMO", "--start", "2022-01-01", "--end", "2022-12-31"]) == 0
    cache.save_dataset(make_ohlcv(30, seed=2, freq="h"), *OTHER)
    CORRUPTIONS[name](cache.dataset_paths(*RANGE)[1])
    capsys.readouterr()
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr()
    assert "MSFT" in out.out and "Traceback" not in out.err
    assert out.err.count("warning:") == 1
    assert main(["fetch", "DEMO", "--start", "2022-03-01", "--end", "2022-03-31"]) == 0
    out = capsys.readouterr()
    assert "fetched" in out.out and out.err.count("warning:") == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_never_hang_or_crash(tmp_path):
    cache.save_dataset(make_ohlcv(30, seed=2, freq="h"), *OTHER)
    folder = cache.dataset_dir("demo", "DEMO", "1D")
    folder.mkdir(parents=True)
    os.mkfifo(folder / "2022-01-01_2022-12-31_metadata.json")
    os.symlink("/dev/zero", folder / "2021-01-01_2021-12-31_metadata.json")
    (folder / "2020-01-01_2020-12-31_metadata.json").mkdir()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert [m["symbol"] for m in cache.list_cached_datasets()] == ["MSFT"]
    msgs = [str(w.message) for w in record]
    assert len(msgs) == 3 and all("not a regular file" in m for m in msgs)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_parquet_that_is_a_fifo_is_a_miss():
    cache.save_dataset(make_ohlcv(30), *RANGE)
    parquet = cache.dataset_paths(*RANGE)[0]
    parquet.unlink()
    os.mkfifo(parquet)
    with pytest.warns(cache.CacheWarning, match="not a regular file"):
        assert cache.load_dataset(*RANGE) is None


def test_row_count_must_match_the_parquet():
    cache.save_dataset(make_ohlcv(30), *RANGE)
    _edit("rows", 29)(cache.dataset_paths(*RANGE)[1])
    with pytest.warns(cache.CacheWarning, match="does not match"):
        assert cache.load_dataset(*RANGE) is None


def test_a_good_entry_passes_the_checks():
    cache.save_dataset(make_ohlcv(30), *RANGE)
    meta_path = cache.dataset_paths(*RANGE)[1]
    meta = json.loads(meta_path.read_text())
    assert cache.metadata_problem(meta, meta_path) is None
    assert "not a JSON object" in str(cache.metadata_problem([meta], meta_path))
