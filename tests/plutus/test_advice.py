"""The strict reply rule: exactly one JSON object matching the schema, else HOLD with the reason."""

from __future__ import annotations

import json

import pytest

from phi.plutus.advice import parse_reply
from tests.plutus.fake_llm import reply

GOOD = reply("SELL", 0.82, "lower highs", "earnings next week")


def test_a_well_formed_reply_is_used_as_is() -> None:
    a = parse_reply(GOOD)
    assert (a.signal, a.confidence, a.reasoning, a.risk_note) == ("SELL", 0.82, "lower highs", "earnings next week")
    assert a.error is None and a.note is None and a.raw == GOOD


@pytest.mark.parametrize("confidence", [0, 1, 0.0, 1.0])
def test_confidence_bounds_are_inclusive(confidence: float) -> None:
    assert parse_reply(reply("BUY", confidence)).error is None


def test_prose_around_one_object_is_ignored_and_flagged() -> None:
    raw = f"Sure, here is my advice:\n{GOOD}\nGood luck!"
    a = parse_reply(raw)
    assert a.signal == "SELL" and a.error is None
    assert a.note == "prose around the JSON object was ignored" and a.raw == raw


def test_a_code_fence_is_not_prose() -> None:
    a = parse_reply(f"```json\n{GOOD}\n```")
    assert a.signal == "SELL" and a.error is None and a.note is None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('{"signal": "BUY", "confidence": 0.7, "reasoning": "x"', "invalid JSON (Expecting ',' delimiter at line 1 column 54)"),
        ("I think you should buy.", "no JSON object in the reply"),
        ("", "no JSON object in the reply"),
        ("[1, 2]", "no JSON object in the reply"),
        (f"{GOOD} or maybe {reply('BUY', 0.6)}", "2 JSON objects in the reply; exactly one is accepted"),
        (reply("BUY", 1.2), "reply does not match the schema: confidence 1.2 is outside [0, 1]"),
        (reply("BUY", -0.1), "reply does not match the schema: confidence -0.1 is outside [0, 1]"),
        (reply("BUY", "0.7"), "reply does not match the schema: confidence '0.7' is not a number"),
        (reply("BUY", True), "reply does not match the schema: confidence true is not a number"),
        (reply("buy", 0.7), "reply does not match the schema: signal 'buy' is not one of BUY, SELL, HOLD"),
        (reply("STRONG BUY", 0.7), "reply does not match the schema: signal 'STRONG BUY' is not one of BUY, SELL, HOLD"),
        ('{"signal": "BUY", "confidence": 0.7, "reasoning": "x"}', "reply does not match the schema: missing key(s) risk_note"),
        (json.dumps({**json.loads(GOOD), "target": 105}), "reply does not match the schema: unexpected key(s) target"),
        (json.dumps({**json.loads(GOOD), "reasoning": 3}), "reply does not match the schema: reasoning 3 is not a string"),
        ('{"signal": "BUY", "confidence": NaN, "reasoning": "", "risk_note": ""}', "reply does not match the schema: confidence nan is outside [0, 1]"),
    ],
)
def test_a_malformed_reply_is_a_hold_with_the_reason(raw: str, error: str) -> None:
    a = parse_reply(raw)
    assert (a.signal, a.confidence, a.reasoning, a.risk_note) == ("HOLD", 0.0, "", "")
    assert a.error == error and a.raw == raw


def test_nested_objects_count_as_one() -> None:
    raw = json.dumps({"signal": "HOLD", "confidence": 0.5, "reasoning": "{not an object}", "risk_note": "none"})
    assert parse_reply(raw).error is None
