"""PhiAI: select and tune indicators by Optuna on walk-forward folds, with honest statistics.

``from phi.phiai.tuner import PhiAITuner, phiai_full_auto``; the search spaces come from the
registry's :class:`~phi.indicators.params.ParamSpec` (:mod:`phi.phiai.spaces`), the folds from
:mod:`phi.phiai.folds`, and DSR, PSR and PBO from :mod:`phi.phiai.stats`. A run config's
``phiai`` section (:mod:`phi.phiai.config`) is tuned by :func:`phi.run` through
:mod:`phi.phiai.run_tuning`.
"""
