"""Technical indicators: raw values and signals in [-1, +1]."""
