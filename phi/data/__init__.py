"""Market data: vendors, the OHLCV contract, the parquet cache and data-health reports."""
