"""The reference's classic single-symbol strategies (REFERENCE §3.2) as presets.

Each rule is one registry indicator; the engine settings are :data:`~phi.strategies.catalogue.
BASE_ENGINE` (long only, in on a buy call, out on a sell call, 95 % of equity in whole units)
unless noted. Differences from the reference, the same for every preset: fills at the next
bar's open, commission and slippage on every fill (the ``us_equities`` cost preset by
default), and no trade on the first bar a signal exists (a cross needs a previous value).
"""

from __future__ import annotations

from phi.backtest.run_config import IndicatorConfig
from phi.strategies.catalogue import Preset, register

__all__ = ["CLASSIC"]

_SRC = "reference strategies/{} (REFERENCE §3.2)"

CLASSIC: tuple[Preset, ...] = (
    Preset(
        name="BuyAndHold",
        family="classic",
        description="Buy once at the start and hold to the end",
        rule="buy once (decided at the second bar's close, the first cross; filled at the third bar's open), never sell",
        sides="long only",
        defaults="100 % of equity",
        source=_SRC.format("buy_and_hold.py"),
        indicators=(IndicatorConfig("buy_and_hold"),),
        engine={"size_pct": 1.0},
        aliases=("hold", "bah"),
    ),
    Preset(
        name="MeanReversion",
        family="classic",
        description="Fade moves away from the 20-bar average",
        rule="buy when the close is below its SMA(20), sell when it is above",
        sides="long only",
        defaults="SMA 20, 95 % of equity",
        source=_SRC.format("mean_reversion.py") + "; the bollinger indicator's sign is sign(SMA - close)",
        indicators=(IndicatorConfig("bollinger", {"period": 20, "nbdev": 2.0}),),
    ),
    Preset(
        name="RSI",
        family="classic",
        description="Buy oversold, sell overbought",
        rule="buy when RSI(14) < 30, sell when RSI(14) > 70",
        sides="long only",
        defaults="RSI 14 (Wilder), 30 / 70, 95 % of equity",
        source=_SRC.format("rsi.py") + "; Wilder's RSI (TA-Lib) where the reference averaged gains and losses with an SMA",
        indicators=(IndicatorConfig("rsi_band", {"period": 14, "lower": 30.0, "upper": 70.0}),),
    ),
    Preset(
        name="Bollinger",
        family="classic",
        description="Buy below the lower band, sell above the upper band",
        rule="buy when the close < SMA(20) - 2 std, sell when it is > SMA(20) + 2 std",
        sides="long only",
        defaults="20 bars, 2 std (population), 95 % of equity",
        source=_SRC.format("bollinger.py"),
        indicators=(IndicatorConfig("bollinger_band", {"period": 20, "nbdev": 2.0}),),
        aliases=("bollinger_bands", "bbands"),
    ),
    Preset(
        name="MACD",
        family="classic",
        description="Follow the MACD line against its signal line",
        rule="buy when the MACD line crosses above its signal line (histogram > 0), sell when below",
        sides="long only",
        defaults="12 / 26 / 9, 95 % of equity",
        source=_SRC.format("macd.py") + "; the macd indicator's sign is the histogram's",
        indicators=(IndicatorConfig("macd", {"fast": 12, "slow": 26, "signal": 9}),),
    ),
    Preset(
        name="DualSMA",
        family="classic",
        description="Golden cross / death cross of two moving averages",
        rule="buy when SMA(10) > SMA(50), sell when SMA(10) < SMA(50)",
        sides="long only",
        defaults="SMA 10 / 50, 95 % of equity",
        source=_SRC.format("dual_sma.py") + "; the dual_sma indicator's sign is sign(SMA10 - SMA50)",
        indicators=(IndicatorConfig("dual_sma", {"fast": 10, "slow": 50}),),
        aliases=("sma_crossover", "golden_cross"),
    ),
    Preset(
        name="ChannelBreakout",
        family="classic",
        description="Donchian / turtle breakout",
        rule="buy when the close > the highest high of the previous 20 bars, sell when < their lowest low",
        sides="long only",
        defaults="20 bars (the current bar excluded), 95 % of equity",
        source=_SRC.format("breakout.py"),
        indicators=(IndicatorConfig("channel_breakout", {"period": 20}),),
        aliases=("breakout", "donchian"),
    ),
    Preset(
        name="Wyckoff",
        family="classic",
        description="Accumulation / distribution from range position and volume",
        rule=(
            "pos = (close - min) / (max - min) of the last 31 closes; buy when pos <= 0.3 and up-close volume "
            "> down-close volume (mean), sell when pos >= 0.7 and down-volume > up-volume"
        ),
        sides="long only",
        defaults="lookback 30, range 30 %, 95 % of equity",
        source=_SRC.format("wyckoff.py"),
        indicators=(IndicatorConfig("wyckoff_phase", {"lookback": 30, "range_pct": 0.3}),),
    ),
    Preset(
        name="LiquidityPools",
        family="classic",
        description="Stops resting beyond swing highs / lows: trade their sweeps and their pull",
        rule=(
            "swing highs / lows of the last 41 bars (strictly beyond 3 bars each side); the previous bar "
            "swept a swing high (high >= it > close) -> sell, a swing low -> buy; else nearer pool overhead "
            "-> buy on a bullish bar, below -> sell on a bar that is not bullish"
        ),
        sides="long only",
        defaults="lookback 40, swing strength 3, 95 % of equity",
        source=_SRC.format("liquidity_pools.py"),
        indicators=(IndicatorConfig("liquidity_pools", {"lookback": 40, "strength": 3}),),
        aliases=("liquidity", "pools"),
    ),
)

for _preset in CLASSIC:
    register(_preset)
