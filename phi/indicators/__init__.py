"""Technical indicators: raw values and signals in [-1, +1].

- :mod:`phi.indicators.registry` — ``INDICATORS``, ``compute_signal``, ``compute_all_signals``,
  ``compute_raw``, ``resolve_params``, ``register_indicator`` (the public API).
- :mod:`phi.indicators.params` — ``ParamSpec`` / ``IndicatorSpec``, the declared specs.
- :mod:`phi.indicators.raw` — raw values following TA-Lib's conventions.
- :mod:`phi.indicators.signals` — the maps from raw values to [-1, +1] (+1 = buy).
- :mod:`phi.indicators._nb` — numba kernels.

Importing this package loads nothing heavy; the registry imports numba on first use.
"""
