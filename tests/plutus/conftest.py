"""Plutus tests register the ``plutus`` indicator and the Plutus preset; each test puts the
registry and the catalogue back as they were, so later tests (the tuner's "all indicators",
``phi strategies compare`` over every preset) never meet a preset that needs an LLM server."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _restore_registries():
    from phi.indicators.registry import INDICATORS
    from phi.strategies import catalogue

    catalogue._load()  # the families register once per process: take them into the snapshot
    indicators, presets, loaded = dict(INDICATORS), dict(catalogue._PRESETS), set(catalogue._LOADED)
    yield
    INDICATORS.clear()
    INDICATORS.update(indicators)
    catalogue._PRESETS.clear()
    catalogue._PRESETS.update(presets)
    catalogue._LOADED.clear()
    catalogue._LOADED.update(loaded)
