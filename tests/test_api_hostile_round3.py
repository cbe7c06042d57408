"""Hostile inputs, third round: inputs that still gave a wrong silent result or a raw exception.

Each case: a :class:`phi.errors.PhiError` subclass (exit code 2 and one line in the CLI) whose
message names the problem, and nothing on disk changed; or, for odd but valid input, figures
checked against values worked by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import phi
from phi.backtest.run_config import RunConfig
from phi.cli import main
from phi.errors import DataError


def _one_line(exc: BaseException, *words: str) -> str:
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 400, msg
    for w in words:
        assert w in msg, msg
    return msg


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (folders as empty markers)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


# ---------------------------------------------------------------------------- warm-up


def _config(**changes: object) -> RunConfig:
    base: dict[str, object] = {
        "dataset": {"symbol": "DEMO", "start": "2021-01-01", "end": "2021-12-31"},
        "indicators": ["rsi"],
    }
    return RunConfig.from_dict({**base, **changes})


def test_a_warm_up_longer_than_the_bars_is_refused_not_reported_as_zero_trades(_isolated_phi_home: Path) -> None:
    # DEMO 2021 has 261 weekday bars. A warm-up of 300 bars left nothing to measure, and the run
    # came back with 0 trades, total return 0 and NaN ratios as if the strategy had been measured.
    with pytest.raises(DataError) as info:
        phi.run(_config(engine={"warmup_bars": 300}))
    _one_line(info.value, "engine.warmup_bars is 300", "0 of the 261 bars", "a smaller engine.warmup_bars")
    # 260 leaves one bar: a decision at its close has no next open to fill at
    with pytest.raises(DataError) as info:
        phi.run(_config(engine={"warmup_bars": 260}), save=False)
    _one_line(info.value, "leaves 1 of the 261 bars")
    assert not (_isolated_phi_home / "runs").exists() or not any((_isolated_phi_home / "runs").iterdir())
    # 259 leaves two bars: one decision (bar 259's close) can fill at bar 260's open
    res = phi.run(_config(engine={"warmup_bars": 259}), save=False)
    assert len(res.equity) == 261


def test_a_rule_indicator_whose_warm_up_fills_the_range_is_refused(_isolated_phi_home: Path) -> None:
    # rsi_band(14) holds 0 before its first call, so no indicator check stopped it: on the 14
    # weekday bars of 2021-01-01..2021-01-20 (RSI's first value needs 15) nothing could trade.
    with pytest.raises(DataError) as info:
        phi.run(_config(dataset={"symbol": "DEMO", "start": "2021-01-01", "end": "2021-01-20"}, indicators=["rsi_band"]), save=False)
    _one_line(info.value, "warm-up", "of the 14 bars", "longer date range")


def test_cli_warm_up_beyond_the_bars_is_one_line_and_exit_2(tmp_path: Path, _isolated_phi_home: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"dataset": {"symbol": "DEMO", "start": "2021-01-01", "end": "2021-12-31"},
                               "indicators": ["rsi"], "engine": {"warmup_bars": 1000}}))  # fmt: skip
    assert main(["backtest", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "engine.warmup_bars is 1,000" in lines[0], err
    assert "Traceback" not in err
    runs = _isolated_phi_home / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]




def test_a_dataset_of_other_bars_is_refused_not_run_under_the_configs_name(_isolated_phi_home: Path) -> None:
    from phi.data.store import get_dataset
    from phi.errors import ConfigError

    cfg = _config()  # DEMO 1D 2021-01-01..2021-12-31
    cases = [
        (get_dataset("SPY", "2015-01-01", "2016-12-31"), "its symbol is 'SPY'"),
        (get_dataset("DEMO", "2021-01-01", "2021-12-31", timeframe="1H"), "its timeframe is '1H'"),
        (get_dataset("DEMO", "2021-01-01", "2021-06-30"), "its requested_end is '2021-06-30'"),
    ]
    before = _tree(_isolated_phi_home / "runs")
    for ds, named in cases:
        # was: SPY's 2015-2016 bars run and saved as "DEMO 2021" (its re-run then failed)
        with pytest.raises(ConfigError) as info:
            phi.run(cfg, dataset=ds)
        _one_line(info.value, named, "config.dataset asks for")
    assert _tree(_isolated_phi_home / "runs") == before
    # the config's own dataset (any spelling of the symbol) still runs, with the figures of a plain run
    own = phi.run(cfg, dataset=get_dataset("demo", "2021-01-01", "2021-12-31"), save=False)
    assert own.metrics == phi.run(cfg, save=False).metrics
    # a portfolio loads its symbols itself: a dataset given with it was ignored without a word
    from phi.backtest.portfolio_run_config import PortfolioRunConfig

    with pytest.raises(ConfigError) as info:
        phi.run(PortfolioRunConfig(("SPY", "AGG")), dataset=cases[0][0], save=False)
    _one_line(info.value, "PortfolioRunConfig loads the bars")

# ---------------------------------------------------------------------------- CSV files

_DAYS = [4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29]  # weekdays of Jan 2021


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def _fetch_csv(path: Path, timeframe: str = "1D") -> object:
    from phi.data.store import get_dataset

    return get_dataset("MINE", "2021-01-01", "2021-12-31", timeframe, "csv", path=str(path))


def _cli_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    return lines[0]


def test_spreadsheet_day_numbers_are_refused_not_read_as_1970(tmp_path: Path, _isolated_phi_home: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # Excel's serial 44200 is 2021-01-04 (day 0 = 1899-12-30: 44197 = 2021-01-01). Read as
    # epoch seconds it was 1970-01-01 12:16:40, and the 20 "daily" bars came 1 second apart.
    path = _csv(tmp_path / "serial.csv", "date,open,high,low,close,volume",
                [f"{44200 + i},{10 + i},{11 + i},{9 + i},{10.5 + i},1000" for i in range(20)])  # fmt: skip
    with pytest.raises(DataError) as info:
        _fetch_csv(path)
    _one_line(info.value, "'44200'", "1970-01-01 12:16:40", "spreadsheet day number 2021-01-04")
    line = _cli_one_line(["fetch", "MINE", "--vendor", "csv", "--path", str(path)], capsys)
    assert "spreadsheet day number 2021-01-04" in line
    assert _tree(_isolated_phi_home / "data_cache") == {}  # nothing cached
    # real epoch seconds still read: 1609718400 is 2021-01-04 00:00 UTC
    epoch = _csv(tmp_path / "epoch.csv", "timestamp,open,high,low,close,volume",
                 [f"{1609718400 + 86400 * i},{10 + i},{11 + i},{9 + i},{10.5 + i},1000" for i in range(5)])  # fmt: skip
    frame = _fetch_csv(epoch).frame  # type: ignore[attr-defined]
    assert str(frame.index[0]) == "2021-01-04 00:00:00+00:00" and frame["close"].tolist() == [10.5, 11.5, 12.5, 13.5, 14.5]


def test_intraday_bars_of_no_timeframe_of_ours_are_refused(tmp_path: Path, _isolated_phi_home: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # 30-minute bars matched no timeframe, so nothing compared them with the one asked for: read
    # as 1D they were "daily" bars (annualised with 252 a year), as 1H hourly ones.
    rows = [f"2021-01-04 {9 + i // 2:02d}:{30 * (i % 2):02d},{10 + i},{11 + i},{9 + i},{10.5 + i},1000" for i in range(12)]
    path = _csv(tmp_path / "half_hour.csv", "datetime,open,high,low,close,volume", rows)
    for tf in ("1D", "1H", "4H"):
        with pytest.raises(DataError) as info:
            _fetch_csv(path, tf)
        _one_line(info.value, "about 30 minutes apart", f"not {tf} bars")
    line = _cli_one_line(["fetch", "MINE", "--vendor", "csv", "--path", str(path)], capsys)
    assert "about 30 minutes apart" in line
    assert _tree(_isolated_phi_home / "data_cache") == {}
    # 1-minute bars with missing minutes are still 1-minute bars (gaps of 1, 2 and 5 minutes)
    minutes = [0, 1, 3, 4, 9, 10, 11, 12]
    sparse = _csv(tmp_path / "sparse.csv", "datetime,open,high,low,close,volume",
                  [f"2021-01-04 14:{m:02d},{10 + i},{11 + i},{9 + i},{10.5 + i},1000" for i, m in enumerate(minutes)])  # fmt: skip
    frame = _fetch_csv(sparse, "1m").frame  # type: ignore[attr-defined]
    assert [t.minute for t in frame.index] == minutes


@pytest.mark.parametrize(
    ("header", "named"),
    [("date,open,high,low,close,Close,volume", "'close' and 'Close'"),
     ("date,open,high,low,close,close,volume", "a second column of that name")],
    ids=["case", "same name"],
)  # fmt: skip
def test_two_columns_for_one_price_in_a_csv_are_refused(tmp_path: Path, header: str, named: str,
                                                       _isolated_phi_home: Path) -> None:  # fmt: skip
    # The second close (100 higher) silently won ('Close') or lost ('close.1'): a guess either way.
    rows = [f"2021-01-{d:02d},{10 + i},{111 + i},{9 + i},{10.5 + i},{110.5 + i},1000" for i, d in enumerate(_DAYS)]
    path = _csv(tmp_path / "two_closes.csv", header, rows)
    with pytest.raises(DataError) as info:
        _fetch_csv(path)
    _one_line(info.value, named, "keep one of them")
    assert _tree(_isolated_phi_home / "data_cache") == {}


# ---------------------------------------------------------------------------- option chains

#: tests/options/chain_tiny.csv: calls quoted 2024-01-03..2024-01-12 (worked by hand in test_chains.py)
_CHAIN = Path(__file__).parent / "options" / "chain_tiny.csv"


def _chain_rows() -> tuple[str, list[str]]:
    header, *rows = _CHAIN.read_text().strip().split("\n")
    return header, rows


def _chain_bars() -> object:
    import numpy as np
    import pandas as pd

    c = np.asarray([100, 100, 100, 100, 101, 103, 106, 108, 109, 111, 112, 112], dtype=float)
    idx = pd.date_range("2024-01-01", periods=len(c), freq="D", tz="UTC")
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1e6}, index=idx)


def test_chain_stamps_with_an_offset_keep_their_own_day(tmp_path: Path) -> None:
    from phi.options.chains import load_chain

    header, rows = _chain_rows()
    days = sorted({r.split(",")[0] for r in rows})
    # 22:00 New York is 03:00 UTC the next day: every quote moved a day later (a quote of
    # 2024-01-03 traded against the bar of 2024-01-04)
    shifted = tmp_path / "offsets.csv"
    shifted.write_text(header + "\n" + "".join(r.replace(",", "T22:00:00-05:00,", 1) + "\n" for r in rows))
    got = sorted(set(load_chain(shifted).quotes["date"].dt.strftime("%Y-%m-%d")))
    assert got == days and got[0] == "2024-01-03"
    # one stamp with a time among plain dates: row 3's good date '2024-01-03' was called "not a date"
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(header + "\n" + "".join((r.replace(",", " 15:30,", 1) if i == 0 else r) + "\n" for i, r in enumerate(rows)))
    plain = load_chain(_CHAIN).quotes
    assert load_chain(mixed).quotes.equals(plain)
    # a year outside the supported dates is named (was: "expiry is before the quote's date")
    old = tmp_path / "old.csv"
    old.write_text(header + "\n" + "".join(r.replace("2024-01-10", "1700-01-10") + "\n" for r in rows))
    with pytest.raises(DataError) as info:
        load_chain(old)
    _one_line(info.value, "expiry '1700-01-10'", "outside the supported dates")


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda h, r: (h + ",Bid", [x + ",9" for x in r]), "two columns are named 'bid'"),  # was a TypeError
        (lambda h, r: (h.replace("open_interest", "gamma"), [x.rsplit(",", 1)[0] + ",-0.05" for x in r]), "gamma must be >= 0"),
        (lambda h, r: (h, [x.replace(",0.8,", ",1.8,") for x in r]), "delta must be in [-1, 1]"),
    ],
    ids=["Bid beside bid", "negative gamma", "delta 1.8"],
)  # fmt: skip
def test_chains_with_a_column_twice_or_impossible_greeks_are_refused(tmp_path: Path, edit: object, named: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from phi.options.chains import load_chain
    from phi.options.gex import gamma_exposure

    header, rows = edit(*_chain_rows())  # type: ignore[operator]
    path = tmp_path / "chain.csv"
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    before = path.read_bytes()
    with pytest.raises(DataError) as info:
        load_chain(path)
    _one_line(info.value, named, "row 2" if "column" not in named else "keep one")
    with pytest.raises(DataError):  # a negative gamma flipped the sign of its strike's GEX
        gamma_exposure(path, min_open_interest=0)
    line = _cli_one_line(["options", "gex", str(path)], capsys)
    assert named in line
    assert path.read_bytes() == before


def test_a_chain_of_another_period_is_refused_not_run_as_zero_trades(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from phi.options.config import OptionsConfig
    from phi.options.simulator import run_options_backtest

    header, rows = _chain_rows()
    path = tmp_path / "2020.csv"
    path.write_text(header + "\n" + "".join(r.replace("2024-01", "2020-01") + "\n" for r in rows))
    bars = _chain_bars()
    sig = np.full(12, np.nan)
    sig[1], sig[2] = 0.0, 1.0  # a cross at bar 2's close
    cfg = OptionsConfig(structure="long_call", dte=7, moneyness=(0.0, 0.05), contracts=1,
                        profit_target_pct=None, stop_loss_pct=None, chain=str(path))  # fmt: skip
    with pytest.raises(DataError) as info:  # was: 0 trades, equity flat at 100,000
        run_options_backtest(bars, pd.Series(sig, index=bars.index), cfg)  # type: ignore[attr-defined]
    _one_line(info.value, "2020-01-03 .. 2020-01-12", "2024-01-01 .. 2024-01-12", "none of the bars' days")


# ---------------------------------------------------------------------------- portfolios


def test_a_drift_band_no_weight_can_reach_is_refused(_isolated_phi_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from phi.backtest.portfolio import PortfolioConfig
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.errors import ConfigError

    # 'drift:5' read as 5 % is a band of 5 (500 points): long only without leverage every weight
    # stays in [0, 1], so the band never triggered and the run ended flat at its starting cash.
    with pytest.raises(ConfigError) as info:
        PortfolioConfig(rebalance="drift:5")
    _one_line(info.value, "'drift:5'", "never trades", "drift:0.05")
    with pytest.raises(ConfigError) as info:
        PortfolioRunConfig.from_dict({"symbols": ["SPY", "AGG"], "portfolio": {"rebalance": "drift:1"}})
    _one_line(info.value, "portfolio.rebalance 'drift:1'")
    line = _cli_one_line(["portfolio", "run", "--symbols", "SPY,AGG", "--rebalance", "drift:5",
                          "--start", "2021-01-01", "--end", "2021-06-30"], capsys)  # fmt: skip
    assert "'drift:5'" in line
    runs = _isolated_phi_home / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]
    # with shorts a weight can move further than 1: the band stays allowed there
    assert PortfolioConfig(rebalance="drift:5", allow_short=True).rebalance == "drift:5"
    # a band under the targets trades from flat: 2 symbols at 0.5 each, drift 0.05 -> 2 buys first
    res = phi.run(PortfolioRunConfig.from_dict({"symbols": ["SPY", "AGG"], "start": "2021-01-01", "end": "2021-06-30",
                                                "portfolio": {"rebalance": "drift:0.05"}}), save=False)  # fmt: skip
    first = res.fills.iloc[:2]  # type: ignore[union-attr]
    assert sorted(first["symbol"]) == ["AGG", "SPY"] and (first["units"] > 0).all()


# ---------------------------------------------------------------------------- config files


def test_a_key_given_twice_in_a_config_is_refused_not_the_last_kept(tmp_path: Path, _isolated_phi_home: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.batch.grid import load_configs
    from phi.errors import ConfigError

    # json keeps the last value: this config ran with seed 2 and a 50 % stop, saying nothing
    # (the regime engine's config files already refused a duplicate key)
    text = '{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "engine": {"stop_loss_pct": 0.05, "stop_loss_pct": 0.5}}'
    with pytest.raises(ConfigError) as info:
        RunConfig.from_json(text)
    _one_line(info.value, "'stop_loss_pct' is given twice")
    with pytest.raises(ConfigError) as info:
        PortfolioRunConfig.from_json('{"symbols": ["SPY"], "symbols": ["AGG"]}')
    _one_line(info.value, "'symbols' is given twice")
    cfg = tmp_path / "run.json"
    cfg.write_text(text)
    before = cfg.read_bytes()
    line = _cli_one_line(["backtest", "--config", str(cfg)], capsys)
    assert "--config file" in line and "'stop_loss_pct' is given twice" in line
    assert cfg.read_bytes() == before and _tree(_isolated_phi_home / "runs") == {}
    # batch files: the JSON-lines config with the duplicate is reported, the next line still loads
    lines = tmp_path / "batch.jsonl"
    lines.write_text('{"dataset": {"symbol": "DEMO", "symbol": "SPY"}, "indicators": ["rsi"]}\n'
                     '{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"]}\n')  # fmt: skip
    first, second = load_configs(lines)
    assert isinstance(first, ConfigError) and "line 1: key 'symbol' is given twice" in str(first)
    assert isinstance(second, RunConfig) and second.dataset.symbol == "DEMO"


# ---------------------------------------------------------------------------- strategies


def test_compare_of_an_empty_list_runs_nothing_and_saves_nothing(_isolated_phi_home: Path) -> None:
    from phi.backtest.run_config import DatasetSpec
    from phi.errors import ConfigError
    from phi.strategies.runner import compare, run_preset

    ds = DatasetSpec("DEMO", start="2021-01-01", end="2021-12-31")
    # [] was read as None: every preset (16) ran and was saved
    with pytest.raises(ConfigError) as info:
        compare([], ds)
    _one_line(info.value, "names is empty", "None for every preset")
    assert _tree(_isolated_phi_home / "runs") == {}
    # a benchmark with a CSV dataset failed after the run, with the CSV path message ("vendor
    # 'csv' needs a file") as if the dataset's own file were missing
    csv = DatasetSpec("MINE", vendor="csv", path=str(_CHAIN), start="2021-01-01", end="2021-12-31")
    with pytest.raises(ConfigError) as info:
        run_preset("RSI", csv, benchmark="SPY")
    _one_line(info.value, "benchmark 'SPY'", "vendor 'csv' reads one file")
    assert _tree(_isolated_phi_home / "runs") == {}


def test_the_time_zone_repair_names_the_zone_the_bars_came_in() -> None:
    import pandas as pd

    from phi.data.schema import check_ohlcv

    idx = pd.DatetimeIndex(["2021-01-04", "2021-01-05"]).tz_localize("America/New_York")
    bars = pd.DataFrame({"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0}, index=idx)
    checked = check_ohlcv(bars)
    # the note read the zone after converting: "converted timestamps from UTC to UTC"
    assert "converted timestamps from America/New_York to UTC" in checked.repairs
    assert [str(t) for t in checked.frame.index] == ["2021-01-04 05:00:00+00:00", "2021-01-05 05:00:00+00:00"]  # EST = UTC-5


def test_a_semicolon_chain_is_read_like_the_comma_one(tmp_path: Path) -> None:
    from phi.options.chains import load_chain

    semi = tmp_path / "semi.csv"
    semi.write_text(_CHAIN.read_text().replace(",", ";"))  # was: "no column 'date'" beside a header holding it
    assert load_chain(semi).quotes.equals(load_chain(_CHAIN).quotes)
    comma = tmp_path / "comma_decimals.csv"  # European decimals are named, never misread
    comma.write_text(_CHAIN.read_text().replace(",", ";").replace("5.4;5.6", "5,4;5,6"))
    with pytest.raises(DataError) as info:
        load_chain(comma)
    _one_line(info.value, "row 2: bid '5,4' is not a number")


# ---------------------------------------------------------------------------- batches


def test_a_symbol_listed_twice_in_another_case_is_swept_once(tmp_path: Path) -> None:
    from phi.batch.grid import load_symbols, sweep_configs

    universe = tmp_path / "universe.txt"
    universe.write_text("SPY\nspy, AGG\n# a comment\nagg\n")
    assert load_symbols(universe) == ["SPY", "AGG"]  # was SPY, spy, AGG, agg: every run twice, saved twice
    configs = sweep_configs(["SPY", "spy", "AGG"], "rsi", {"period": [7, 14]})
    assert [(c.dataset.symbol, c.indicators[0].params["period"]) for c in configs] == [  # type: ignore[union-attr]
        ("SPY", 7), ("SPY", 14), ("AGG", 7), ("AGG", 14),
    ]  # fmt: skip


def test_a_run_whose_every_entry_was_sized_to_zero_says_so(_isolated_phi_home: Path) -> None:
    # 0.5 units rounded down to whole units is 0: no trade was ever opened, and the result read
    # like a strategy that never signalled (the count sat in the ledger only)
    cfg = _config(engine={"sizing": "fixed_units", "size_units": 0.5, "fractional": False})
    with pytest.warns(UserWarning, match=r"^all \d+ entries were skipped") as record:
        res = phi.run(cfg, save=False)
    assert res.metrics["n_trades"] == 0 and res.assumptions["skipped_entries"] > 0
    (msg,) = [str(w.message) for w in record]
    assert f"all {res.assumptions['skipped_entries']} entries" in msg and "in whole units" in msg and "\n" not in msg
    # fractional units buy the half unit: trades, no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frac = phi.run(_config(engine={"sizing": "fixed_units", "size_units": 0.5}), save=False)
    assert frac.metrics["n_trades"] > 0 and (frac.trades["size"] == 0.5).all()
    # a fixed commission above the equity leaves nothing to buy either: the fix named is the commission
    with pytest.warns(UserWarning, match=r"lower commission_fixed \(1,000,000\.00 a fill\)"):
        phi.run(_config(engine={"commission_fixed": 1e6}), save=False)


def test_a_portfolio_that_never_trades_says_why(_isolated_phi_home: Path) -> None:
    import numpy as np
    import pandas as pd

    from phi.backtest.portfolio import PortfolioConfig, run_portfolio

    idx = pd.date_range("2021-01-04", periods=6, freq="B", tz="UTC")
    bars = {s: pd.DataFrame({"open": p, "high": p, "low": p, "close": p, "volume": 1e6}, index=idx)
            for s, p in (("A", 100.0), ("B", 50.0))}  # fmt: skip
    half = pd.DataFrame({"A": 0.5, "B": 0.5}, index=idx)
    # $60 at 0.5 each buys 0.3 of A and 0.6 of B: both round to 0 whole units, so the run stayed
    # at $60 cash with nothing said (the ledger's skipped_targets read 0)
    with pytest.warns(UserWarning, match="the portfolio never traded") as record:
        res = run_portfolio(bars, half, PortfolioConfig(initial_capital=60.0, fractional=False))
    assert res.metrics["n_fills"] == 0 and res.equity.eq(60.0).all()
    assert "whole units: with capital 60.00" in str(record[0].message)
    # drift:0.5 from flat: each weight is 0.5 from its target, not more, so nothing ever filled
    with pytest.warns(UserWarning, match=r"rebalance drift:0\.5: no weight ever moved more than 0\.5"):
        run_portfolio(bars, half, PortfolioConfig(rebalance="drift:0.5"))
    # the same targets in fractional units: $100,000 x 0.5 / $100 = 500 of A, / $50 = 1,000 of B
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = run_portfolio(bars, half, PortfolioConfig())
    assert ok.holdings.iloc[-1].to_dict() == {"A": 500.0, "B": 1000.0}
    assert np.isfinite(ok.metrics["final_equity"])


# ---------------------------------------------------------------------------- model store


def test_a_model_save_never_replaces_a_file_or_a_folder_that_holds_no_model(_isolated_phi_home: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    pytest.importorskip("sklearn")
    from phi.data.demo import generate_demo
    from phi.ml.model import ModelError
    from phi.ml.train import train_classifier

    models = _isolated_phi_home / "models"
    (models / "notes").mkdir(parents=True)
    (models / "notes" / "todo.txt").write_text("mine")
    (models / "plain").write_text("a file of mine")
    before = _tree(models)
    bars = generate_demo("DEMO", "2019-01-01", "2021-12-31")
    # the file was replaced (and left as a hidden .plain.*.old), the folder deleted with its notes
    for name, named in (("plain", "is a file, not a model folder"), ("notes", "holds no model (no metadata.json)")):
        with pytest.raises(ModelError) as info:
            train_classifier(bars, model="lr", folds=2, save_as=name)
        _one_line(info.value, f"cannot write model {name!r}", named)
    line = _cli_one_line(["ml", "train", "DEMO", "--model", "lr", "--name", "notes", "--start", "2019-01-01", "--end", "2021-12-31"], capsys)
    assert "holds no model" in line
    assert _tree(models) == before
    # a model saved there is replaced by the next save of that name
    train_classifier(bars, model="lr", folds=2, save_as="mine")
    train_classifier(bars, model="lr", folds=2, save_as="mine")
    assert sorted(p.name for p in models.iterdir()) == ["mine", "notes", "plain"]


def test_a_parquet_or_excel_file_given_as_csv_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    import pandas as pd

    rows = [f"2021-01-{d:02d},{10 + i},{11 + i},{9 + i},{10.5 + i},1000" for i, d in enumerate(_DAYS)]
    good = _csv(tmp_path / "bars.csv", "date,open,high,low,close,volume", rows)
    parquet = tmp_path / "bars.parquet"
    pd.read_csv(good).to_parquet(parquet)
    xlsx = tmp_path / "bars.xlsx"
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    # both were "not UTF-8 text (a NUL byte at offset ...): save it as UTF-8"
    for path, named in ((parquet, "is a Parquet file"), (xlsx, "is a ZIP archive (an Excel .xlsx workbook")):
        with pytest.raises(DataError) as info:
            _fetch_csv(path)
        _one_line(info.value, named, "export it as CSV")
        assert named in _cli_one_line(["fetch", "MINE", "--vendor", "csv", "--path", str(path)], capsys)


# ---------------------------------------------------------------------------- re-runs


def test_rerunning_an_options_run_whose_chain_changed_is_refused(tmp_path: Path, _isolated_phi_home: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    import shutil

    import phi.pipeline
    from phi.backtest.run_config import DatasetSpec
    from phi.options.config import OptionsConfig
    from phi.pipeline import DataChangedWarning

    data = Path(__file__).parent / "options" / "data"
    chain = tmp_path / "chain.csv"
    shutil.copy(data / "xyz_chain_eod.csv", chain)
    ds = DatasetSpec("XYZ", vendor="csv", path=str(data / "xyz_bars.csv"), start="2024-01-02", end="2024-03-13")
    opts = OptionsConfig(structure="long_put", dte=30, chain=str(chain), profit_target_pct=None,
                         stop_loss_pct=None, contracts=2, commission_per_contract=0.65)  # fmt: skip
    first = phi.run(RunConfig(ds, [{"name": "rsi", "params": {"period": 5}}], mode="options", options=opts))
    assert first.run_id is not None
    # the same chain re-runs to the same figures
    assert phi.pipeline.rerun(first.run_id, save=False).metrics == first.metrics
    # every ask 1.00 dearer: the re-run bought dearer puts and reported other figures without a word
    header, *rows = chain.read_text().strip().split("\n")
    ask = header.split(",").index("ask")
    chain.write_text("\n".join([header, *(",".join(f if i != ask or not f else f"{float(f) + 1:.2f}"
                                                   for i, f in enumerate(r.split(","))) for r in rows)]) + "\n")  # fmt: skip
    runs_before = _tree(_isolated_phi_home / "runs")
    with pytest.raises(DataError) as info:
        phi.pipeline.rerun(first.run_id)
    _one_line(info.value, f"the option chain {chain} changed since run {first.run_id}", "allow_data_change=True")
    line = _cli_one_line(["runs", "rerun", first.run_id], capsys)
    assert "changed since run" in line and "--allow-data-change" in line
    assert _tree(_isolated_phi_home / "runs") == runs_before
    with pytest.warns(DataChangedWarning, match="running on the new quotes"):
        again = phi.pipeline.rerun(first.run_id, save=False, allow_data_change=True)
    assert again.metrics["final_equity"] < first.metrics["final_equity"]  # puts bought dearer: less equity
