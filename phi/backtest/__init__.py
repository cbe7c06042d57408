"""The backtest engine, metrics, run configuration and run history."""
