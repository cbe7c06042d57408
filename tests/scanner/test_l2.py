"""The L2 client against a fake Polygon server on loopback replaying a recording with a
disconnect and malformed messages: the features equal values worked out by hand."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from phi.data.l2 import L2Book, L2Unavailable, PolygonL2Client, scanner_source
from phi.scanner import L2_COLUMNS, scan
from tests.plutus.fake_llm import closed_port
from tests.scanner.fake_ws import FakePolygon

RECORDING = json.loads((Path(__file__).parent / "l2_recording.json").read_text())["connections"]
KEY = "pk-test-secret"

# Worked by hand from the recording (see l2_recording.json):
#   NBBO at the end: bid 100.03 x 500, ask 100.05 x 100 (mid 100.04)
#   trades: 100.10 > mid 100.05 -> +50; 100.00 < mid 100.05 -> -30; (reconnect, new mid 100.04)
#           100.04 = mid, up from 100.00 by the tick rule -> +20; 100.04 = mid, unchanged -> previous sign -> +40
#   signed sizes +50 -30 +20 +40: mean 20, population variance (900 + 2500 + 0 + 400) / 4 = 950
#   depths per quote 400, 400, 600 (the malformed quote is skipped): mean 1400 / 3; slope 200 / 2 = 100
EXPECTED = {
    "book_imbalance": 500 / 600,
    "spread_bps": (100.05 - 100.03) / 100.04 * 1e4,
    "ofi": 20 / math.sqrt(950),
    "depth_ratio": 600 / (1400 / 3),
    "depth_trend": 100.0,
}


def _wait(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_features_from_a_recorded_stream_with_a_disconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    with FakePolygon(RECORDING, KEY) as server:
        client = PolygonL2Client(["spy"], server.url).start()
        try:
            _wait(lambda: any(s.get("status") == "done" for s in client.book.statuses))
            feats = client.features("SPY")
        finally:
            client.stop()
    assert client.connections == 2  # reconnected after the drop
    assert feats == pytest.approx(EXPECTED, rel=1e-12)
    assert len(client.book.malformed) == 2 and client.book.malformed[0].startswith("not JSON")
    assert client.book.malformed[1].startswith("bad quote")
    subscribe = [m for m in server.received if m.get("action") == "subscribe"]
    assert subscribe == [{"action": "subscribe", "params": "Q.SPY,T.SPY"}] * 2
    assert KEY not in repr(vars(client)) and KEY not in str(client.status)


def test_no_key_no_server_and_a_refused_key_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    with pytest.raises(L2Unavailable, match="^POLYGON_API_KEY is not set; level-2 features are unavailable$"):
        PolygonL2Client(["SPY"]).start()
    assert scanner_source(["SPY"]) == (None, "L2 quotes: unavailable - POLYGON_API_KEY is not set")
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    dead = f"ws://127.0.0.1:{closed_port()}"
    source, line = scanner_source(["SPY"], url=dead, wait=2)
    assert source is None and line.startswith(f"L2 quotes: unavailable - no quote stream at {dead} (")
    with FakePolygon(RECORDING, "another-key") as server:
        source, line = scanner_source(["SPY"], url=server.url, wait=2)
    assert source is None and line == f"L2 quotes: unavailable - the quote stream at {server.url} refused POLYGON_API_KEY (auth_failed)"
    assert KEY not in line


def test_scanner_shows_l2_columns_from_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    with FakePolygon([RECORDING[1]], KEY) as server:
        source, line = scanner_source(["SPY", "QQQ"], url=server.url, wait=0.5)
    assert line == f"L2 quotes: {server.url}, 1 of 2 symbols quoted in 0.5 s"
    table = scan(["SPY", "QQQ"], start="2023-01-01", end="2024-06-30", l2=source, l2_status=line).table()
    row = table.set_index("symbol")
    assert row.loc["SPY", "book_imbalance"] == pytest.approx(500 / 600)
    assert row.loc["QQQ", list(L2_COLUMNS)].isna().all()  # no quotes for QQQ: unavailable, not zero


def test_book_edge_cases() -> None:
    book = L2Book(trade_window=3, depth_window=2)
    assert book.features("SPY") is None  # no quote yet
    book.on_message('[{"ev":"T","sym":"SPY","p":10.0,"s":5}]')  # before any quote: no sign yet
    book.on_message('[{"ev":"Q","sym":"SPY","bp":10.0,"bs":0,"ap":10.2,"as":0}]')
    f = book.features("SPY")
    assert math.isnan(f["book_imbalance"]) and math.isnan(f["depth_ratio"]) and math.isnan(f["ofi"])
    for p in (10.3, 10.4, 10.5):  # three buys of equal size: std 0 -> +5 (window 3 drops the first)
        book.on_message(json.dumps([{"ev": "T", "sym": "SPY", "p": p, "s": 7}]))
    assert book.features("SPY")["ofi"] == 5.0
    book.on_message('[{"ev":"Q","sym":"SPY","bp":10.0,"bs":10,"ap":10.0,"as":30}]')  # locked market
    f = book.features("SPY")
    assert f["spread_bps"] == 0.0 and f["book_imbalance"] == 0.25 and f["depth_trend"] == 40.0
    book.on_message('[{"ev":"Q","sym":"SPY","bp":10.1,"bs":1,"ap":10.0,"as":1}]')  # crossed: rejected
    book.on_message('[{"ev":"XQ","sym":"SPY"}]')
    book.on_message('"just a string"')
    assert [m.split(" ")[0:2] for m in book.malformed] == [["bad", "quote"], ["unknown", "event"], ["event", "is"]]


def test_cli_scan_l2_without_a_key_says_so(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from phi.cli import main

    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    assert main(["scan", "SPY", "--l2", "--start", "2023-01-01", "--end", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert "L2 quotes: unavailable - POLYGON_API_KEY is not set" in out and "book_imbalance" not in out
