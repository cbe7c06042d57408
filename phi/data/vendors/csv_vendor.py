"""A user's own CSV file of bars.

Detection, so that files exported by common tools load without editing:

- the date column: the first of ``date, datetime, timestamp, time, ...`` (any case), else the
  first column; a separate ``date`` + ``time`` pair is joined;
- price columns by name, any case, with aliases: ``Open/o``, ``High/h``, ``Low/l``,
  ``Close/c/Close/Last/Last/Price``, ``Volume/v/Vol``; ``Adj Close`` is used only when the file
  has no ``Close`` (then the bars are labelled ``"adjusted"``, else ``"raw"``); two columns for
  one field (``close`` and ``Close``, or ``close`` twice) are refused;
- numbers like ``$182.52`` or ``1,234,567``, and with a decimal comma (``182,52``,
  ``1.234,56``, as semicolon files from European spreadsheets write them): the decimal mark is
  detected from the values, a file mixing both conventions or one where ``1,234`` could mean
  either is refused (:func:`detect_decimal`), never misread;
- dates as ISO 8601 (``2024-01-05``, ``2024-01-05 09:30``, ``2024-01-05T14:30:00Z``, with
  offsets), US ``01/05/2024`` (day-first ``05/01/2024`` only when a first field exceeds 12),
  ``2024/01/05``, ``05.01.2024``, ``20240105``, or epoch seconds / milliseconds (numbers under
  1e7, spreadsheet day numbers or 1970's first days, are refused, never guessed);
- time zone: stamps with an offset are converted to UTC; naive intraday stamps are read in
  ``tz`` (default UTC, noted as a repair); daily stamps become 00:00 UTC of their date;
- bar frequency: by what the stamps are (:func:`phi.data.calendar.bar_frequency`, the rule
  portfolios use), not their median gap: two stamps on one date are intraday bars, one stamp
  a day is daily bars however sparse (a thinly traded symbol, long halts, a weekly or monthly
  sample: loaded as daily with a note); a file mixing daily and intraday bars (also daily bars
  stamped at a time its intraday bars use, such as 16:00 or 00:00, one day of intraday bars
  in a daily file, a stretch of daily bars inside an intraday one) or intraday bars of two
  lengths (hourly, then 5-minute; hourly beside 4H) is refused, naming the dates; missing bars,
  half-days and thin days are not a mix (:func:`phi.data.vendors.csv_mixed.refuse_mixed_frequencies`).

A missing volume column becomes 0 with a repair note. Rows with no prices are dropped by
the validator; anything else unusable is a :class:`~phi.errors.DataError` naming the column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.data.calendar import bar_frequency
from phi.data.dates import SPAN, in_span
from phi.data.schema import check_ohlcv
from phi.data.timeframes import TIMEFRAME_MINUTES
from phi.data.vendors import VendorData, canonical_tz, one_line, resample_session_4h
from phi.data.vendors.csv_mixed import refuse_mixed_frequencies
from phi.errors import DataError

DATE_NAMES = (
    "date",
    "datetime",
    "timestamp",
    "time",
    "date_time",
    "timestamp_utc",
    "dt",
    "index",
    "unnamed: 0",
)
ALIASES: dict[str, tuple[str, ...]] = {
    "open": ("open", "o", "open price", "opening price", "first"),
    "high": ("high", "h", "high price", "max"),
    "low": ("low", "l", "low price", "min"),
    "close": ("close", "c", "close/last", "close price", "closing price", "last", "price"),
    "adj close": (
        "adj close",
        "adj_close",
        "adjclose",
        "adjusted close",
        "adjusted_close",
        "adj. close",
    ),
    "volume": ("volume", "v", "vol", "vol.", "volume (shares)", "qty"),
}
_DATE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d-%b-%Y",
    "%b %d, %Y",
)


def _short(value: object, limit: int = 40) -> str:
    """``repr`` of a value from the file, cut to ``limit`` characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _norm(name: object) -> str:
    return " ".join(str(name).strip().lower().replace("\ufeff", "").split())


#: the largest CSV file read (10 years of 1-minute bars of one symbol are ~60 MB)
MAX_CSV_BYTES = 512 * 1024 * 1024
_CHUNK = 8 * 1024 * 1024


#: the first bytes of files often given where a CSV is expected
_BINARY_KINDS: Final = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook or a zipped file)",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
}


def _sniff_bytes(p: Path, shown: str) -> None:
    """Refuse, before parsing, a file too large to be bars or one holding NUL bytes (binary
    data, a sparse or truncated download): pandas would spend minutes on it or misread it."""
    try:
        size = p.stat().st_size
        if size > MAX_CSV_BYTES:
            raise DataError(
                f"CSV file {shown} is {size / 2**20:,.0f} MiB, larger than the {MAX_CSV_BYTES // 2**20} MiB "
                "a CSV of bars may be; split it by date or symbol"
            )
        with p.open("rb") as fh:
            head = fh.read(4)
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return  # UTF-16: the decoder below names it
            kind = _BINARY_KINDS.get(head)
            if head == b"PAR1" and size >= 8:  # Parquet ends with its magic too (a CSV header never does both)
                fh.seek(-4, 2)
                kind = kind if fh.read(4) == b"PAR1" else None
            if kind is not None:
                raise DataError(f"CSV file {shown} is {kind}, not CSV text; export it as CSV (UTF-8)")
            fh.seek(0)
            offset = 0
            while chunk := fh.read(_CHUNK):
                at = chunk.find(b"\x00")
                if at >= 0:
                    raise DataError(
                        f"CSV file {shown} is not UTF-8 text (a NUL byte at offset {offset + at:,}: "
                        "a binary or damaged file); save it as UTF-8 (Excel: 'CSV UTF-8')"
                    )
                offset += len(chunk)
    except OSError as exc:
        raise DataError(f"could not read CSV file {shown}: {exc.strerror or exc}") from None


def read_csv_file(path: str | Path) -> pd.DataFrame:
    """Transport: read the file as text columns; :class:`DataError` if missing or unreadable."""
    p = Path(path)
    shown = _short(str(p), 120)
    try:
        exists, is_file = p.exists(), p.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise DataError(f"cannot open CSV file {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    if not exists:
        raise DataError(f"CSV file not found: {shown}")
    if not is_file:
        raise DataError(f"CSV path {shown} is not a file")
    _sniff_bytes(p, shown)
    try:
        with p.open("r", encoding="utf-8-sig", errors="strict") as fh:
            header = fh.readline()
        sep = max((",", ";", "\t", "|"), key=header.count) if header.strip() else ","
        raw = pd.read_csv(p, dtype=str, sep=sep, skipinitialspace=True, encoding="utf-8-sig")
        raw.attrs["separator"] = sep
        if not isinstance(raw.index, pd.RangeIndex):  # pandas moved the surplus into the index
            wide = raw.index.nlevels + raw.shape[1]
            hint = "; numbers with a decimal comma need ';' between columns" if sep == "," else ""
            raise DataError(
                f"CSV file {shown} has rows with {wide} fields but {raw.shape[1]} column names"
                f"{hint}"
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"CSV file {shown} is empty") from None
    except UnicodeDecodeError as exc:
        hint = " (it looks like UTF-16)" if exc.object[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise DataError(
            f"CSV file {shown} is not UTF-8 text{hint} (byte 0x{exc.object[exc.start]:02x}); "
            "save it as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None
    except (OSError, pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"could not read CSV file {shown}: {one_line(exc)}") from None
    if raw.shape[1] < 2:
        raise DataError(
            f"CSV file {shown} has {raw.shape[1]} column(s) ({', '.join(map(str, raw.columns))}); "
            "expected a date column and open, high, low, close(, volume)"
        )
    _refuse_cut_short(p, shown, sep, raw.shape[1])
    return raw


def _refuse_cut_short(p: Path, shown: str, sep: str, columns: int) -> None:
    """Refuse a file whose last line has no line end and fewer fields than the line before it
    (or the header): the tail of an interrupted download or copy, whose bar would be read as
    missing values or its date cut to a few digits, named as such rather than by a puzzling
    parse error."""
    import csv

    try:
        with p.open("rb") as fh:
            start = max(0, p.stat().st_size - 65536)
            fh.seek(start)
            tail = fh.read()
    except OSError as exc:
        raise DataError(f"could not read CSV file {shown}: {exc.strerror or exc}") from None
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    lines = tail.split(b"\n")

    def count(line: bytes) -> int:
        return len(next(csv.reader([line.decode("utf-8", errors="replace").rstrip("\r")], delimiter=sep), []))

    before = count(lines[-2]) if len(lines) > 2 or (len(lines) == 2 and start == 0) else columns
    last = count(lines[-1])
    if 0 < last < before:
        text = lines[-1].decode("utf-8", errors="replace").strip()
        raise DataError(
            f"CSV file {shown}: its last line has {last} of {before} fields and no line end "
            f"({_short(text, 30)}); the file looks cut short (an interrupted download or copy): "
            "fetch it again or delete that line"
        )


#: what pandas makes of a repeated column name: ``close``, ``close.1``, ``close.2``
_MANGLED = re.compile(r"^(.*)\.(\d+)$")


def _refuse_twice_named(columns: list[str]) -> None:
    """Two columns for one field (``close`` and ``Close``, or ``close`` twice, which pandas
    reads as ``close`` and ``close.1``) are refused: which one holds the prices is a guess."""
    wanted = {n for names in ALIASES.values() for n in names} | set(DATE_NAMES)
    seen: dict[str, str] = {}
    for col in columns:
        key = _norm(col)
        mangled = _MANGLED.match(col)
        if mangled and mangled.group(1) in columns:
            key = _norm(mangled.group(1))
            col = f"{mangled.group(1)!r} (a second column of that name)"
        else:
            col = repr(col)
        if key in seen and key in wanted:
            raise DataError(f"columns {seen[key]} and {col} both name the {key!r} column; keep one of them")
        seen.setdefault(key, col)


def find_columns(columns: list[str]) -> dict[str, str]:
    """Map ``date, open, high, low, close, adj close, volume`` to the file's column names.

    Raises :class:`DataError` naming the missing column and the columns found.
    """
    normed = {_norm(c): c for c in columns}
    found: dict[str, str] = {}
    _refuse_twice_named(columns)
    for target, names in ALIASES.items():
        for n in names:
            if n in normed:
                found[target] = normed[n]
                break
    date_col = next((normed[n] for n in DATE_NAMES if n in normed), None)
    if date_col is None:
        used = set(found.values())
        date_col = next((c for c in columns if c not in used), None)
    if date_col is None:  # every column is a price or the volume: the stamps are missing
        raise DataError(
            f"no date column (looked for {', '.join(DATE_NAMES[:4])}, ..., else a column that is "
            f"not a price); columns found: {', '.join(map(str, columns))}"
        )
    found["date"] = date_col
    if "close" not in found and "adj close" in found:
        found["close"] = found.pop("adj close")
        found["close_is_adjusted"] = "yes"
    for need in ("open", "high", "low", "close"):
        if need not in found:
            raise DataError(
                f"no {need!r} column (looked for {', '.join(ALIASES[need])}, any case); "
                f"columns found: {', '.join(map(str, columns))}"
            )
    return found


_NA_TOKENS = {"": pd.NA, "-": pd.NA, "null": pd.NA, "nan": pd.NA, "NaN": pd.NA}
#: a number with a decimal point and optional comma thousands (1,234.5) / the European mirror
_DOT_STYLE = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
_COMMA_STYLE = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d*)?(?:[eE][+-]?\d+)?"


def _number_text(values: pd.Series) -> pd.Series:
    """Trimmed text without currency signs and spaces (``$ 1 234,5`` -> ``1234,5``)."""
    text = values.astype("string").str.strip()
    return text.str.replace(r"[$\s]", "", regex=True)


def detect_decimal(columns: list[pd.Series], separator: str = ",", source: str = "CSV") -> str:
    """The decimal mark of a file's number columns: ``'.'`` or ``','``.

    A value only one convention can read decides (``1,5``, ``182,52`` or ``1.234,56`` mean a
    decimal comma; ``1.5`` or ``1,234.56`` a decimal point); the file must not mix the two.
    When every value reads both ways (``1,234`` is 1234 or 1.234), a comma-separated file
    means thousands (it had to quote the value); any other file is refused rather than
    guessed. Values without ``,`` or ``.`` say nothing.
    """
    text = pd.concat([_number_text(c) for c in columns], ignore_index=True).dropna()
    text = text[text.str.contains(r"\d") & text.str.contains(r"[.,]")].drop_duplicates()
    dot = text.str.fullmatch(_DOT_STYLE).fillna(False).astype(bool)
    comma = text.str.fullmatch(_COMMA_STYLE).fillna(False).astype(bool)
    dot_only, comma_only = text[dot & ~comma], text[comma & ~dot]
    if len(dot_only) and len(comma_only):
        raise DataError(
            f"{source} writes numbers two ways: {_short(dot_only.iloc[0])} (decimal point) and "
            f"{_short(comma_only.iloc[0])} (decimal comma); save it with one convention"
        )
    if len(comma_only):
        return ","
    if len(dot_only):
        return "."
    either = text[dot & comma & text.str.contains(",", regex=False)]
    if len(either) and separator != ",":
        raise DataError(
            f"{source}: cannot tell whether ',' in {_short(either.iloc[0])} is a decimal comma or a "
            "thousands separator; save the numbers without thousands separators"
        )
    return "."


def to_number(values: pd.Series, column: str, decimal: str = ".") -> pd.Series:
    """Strings like ``$1,234.50`` (or ``1.234,50`` with ``decimal=','``) -> float; blanks ->
    NaN; anything else a :class:`DataError`."""
    text = _number_text(values)
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    text = text.replace(_NA_TOKENS)
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna()
    if bool(bad.any()):
        first = values[bad.to_numpy()].iloc[0]
        raise DataError(
            f"column {column!r} holds a value that is not a number: {_short(first)} ({int(bad.sum())} such row(s))"
        )
    return out.astype("float64")


_OFFSET = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})$")


def parse_dates(
    values: pd.Series, column: str
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex | None, str]:
    """Detect the date format of ``values``.

    Returns ``(wall, utc, label)``: the naive wall-clock stamps as written, the same instants
    in UTC when the file says so (an offset, ``Z``, or epoch numbers; else ``None``), and a
    label of the format used. Dates outside :data:`phi.data.dates.SPAN` (year 0, 9999, epoch
    values near 1e20) are a :class:`DataError` naming the first such value.
    """
    wall, utc, label = _detect_dates(values, column)
    for stamps in (wall, utc):
        if stamps is None or len(stamps) == 0:
            continue
        bad = np.flatnonzero(
            ~np.asarray([in_span(stamps.min()), in_span(stamps.max())], dtype=bool)
        )
        if len(bad):
            edge = (stamps.min(), stamps.max())[int(bad[0])]
            first = values.iloc[int(np.flatnonzero(stamps == edge)[0])]
            raise DataError(
                f"date column {column!r} holds {_short(first)} ({label}), outside the supported dates {SPAN}"
            )
    return wall, utc, label


#: Epoch seconds below this all fall in 1970's first 116 days: no file of bars holds those,
#: while spreadsheet day numbers (44200 = 2021-01-04) do.
_FEWEST_EPOCH_SECONDS: Final = 1e7
#: Day 0 of spreadsheet serial dates (Excel, LibreOffice, Google Sheets; from March 1900 on).
_SERIAL_EPOCH: Final = pd.Timestamp("1899-12-30")


def _refuse_day_numbers(values: pd.Series, nums: np.ndarray, column: str) -> None:
    """Small numbers in the date column: spreadsheet day numbers or the first days of 1970,
    which are never guessed between (read as epoch seconds they put every bar in 1970)."""
    first = float(nums[0])
    as_epoch = pd.Timestamp(first, unit="s")
    hint = ""
    if 1 <= first <= 2_958_465:  # a serial day number Excel can show (up to 9999-12-31)
        hint = f", as a spreadsheet day number {_SERIAL_EPOCH + pd.Timedelta(days=first):%Y-%m-%d}"
    raise DataError(
        f"date column {column!r} holds small numbers like {_short(values.iloc[0])} (as epoch "
        f"seconds {as_epoch:%Y-%m-%d %H:%M:%S}{hint}); save the dates as text such as 2024-01-31 "
        "(in a spreadsheet: format the column as a date before exporting)"
    )


def _detect_dates(
    values: pd.Series, column: str
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex | None, str]:
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    if bool(empty.any()):
        raise DataError(f"date column {column!r} has {int(empty.sum())} empty value(s)")
    if bool(text.str.fullmatch(r"-?\d+(\.\d+)?").all()):
        if bool(text.str.fullmatch(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])").all()):
            wall = pd.DatetimeIndex(pd.to_datetime(text, format="%Y%m%d"))
            return wall, None, "%Y%m%d"
        nums = text.astype("float64").to_numpy()  # 400 digits -> inf, never an OverflowError
        if not np.isfinite(nums).all():
            first = values.iloc[int(np.flatnonzero(~np.isfinite(nums))[0])]
            raise DataError(
                f"date column {column!r} holds {_short(first)}, an epoch value outside the supported dates {SPAN}"
            )
        big = float(np.abs(nums).max())
        unit, label = ("s", "epoch seconds")
        if big >= 1e17:
            unit, label = ("ns", "epoch nanoseconds")
        elif big >= 1e14:
            unit, label = ("us", "epoch microseconds")
        elif big >= 1e11:
            unit, label = ("ms", "epoch milliseconds")
        elif big < _FEWEST_EPOCH_SECONDS:
            _refuse_day_numbers(values, nums, column)
        try:
            utc = pd.DatetimeIndex(pd.to_datetime(nums, unit=unit, utc=True))
        except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
            first = values.iloc[int(np.argmax(np.abs(nums)))]
            raise DataError(
                f"date column {column!r} holds {_short(first)}, an epoch value outside the supported dates {SPAN}"
            ) from None
        return utc.tz_localize(None), utc, label
    parts = text.str.extract(_OFFSET)
    has_offset = parts[0].notna()
    if bool(has_offset.any()) and not bool(has_offset.all()):
        first = text[~has_offset.to_numpy()].iloc[0]
        raise DataError(
            f"date column {column!r} mixes stamps with and without a time zone, e.g. {first!r}"
        )
    wall_text = parts[0] if bool(has_offset.all()) else text
    sample = str(wall_text.iloc[0])
    for fmt in _DATE_FORMATS:
        if fmt == "ISO8601" and not re.match(r"^\d{4}-\d{1,2}-\d{1,2}", sample):
            continue
        try:
            wall = pd.DatetimeIndex(pd.to_datetime(wall_text, format=fmt))
        except (ValueError, TypeError):
            continue
        utc = None
        if bool(has_offset.all()):
            try:
                utc = pd.DatetimeIndex(
                    pd.to_datetime(
                        text.str.replace(r"\s*UTC$", "Z", regex=True), format="ISO8601", utc=True
                    )
                )
            except (ValueError, TypeError):
                raise DataError(
                    f"could not read the time-zone offsets in column {column!r}, e.g. {text.iloc[0]!r}"
                ) from None
        return wall, utc, fmt
    bad = _unreadable_dates(wall_text)
    count = f" ({int(bad.sum())} of {len(bad)} rows)" if 0 < int(bad.sum()) < len(bad) else ""
    first = text[bad.to_numpy()].iloc[0] if bool(bad.any()) else text.iloc[0]
    raise DataError(
        f"could not read the dates in column {column!r}, e.g. {_short(first)}{count}; "
        "use ISO (2024-01-31 or 2024-01-31 09:30), US (01/31/2024) or epoch seconds"
    )


def _unreadable_dates(wall_text: pd.Series) -> pd.Series:
    """Which stamps fail under the date format that reads the most of them (the bad rows of a
    column that is mostly fine, not its first good stamp)."""
    best: pd.Series | None = None
    for fmt in _DATE_FORMATS:
        try:
            bad = pd.Series(pd.to_datetime(wall_text, format=fmt, errors="coerce"), index=wall_text.index).isna()
        except (ValueError, TypeError):
            continue
        if best is None or int(bad.sum()) < int(best.sum()):
            best = bad
    return best if best is not None else pd.Series(True, index=wall_text.index)


def file_frequency(wall: pd.DatetimeIndex, timeframe: str | None = None) -> tuple[float | None, str]:
    """The bar length in minutes of a file's stamps (their own wall clock) and how it was read.

    :func:`phi.data.calendar.bar_frequency` on the sorted stamps: two stamps on one date are
    intraday bars (length: the commonest gap within a day), one stamp a day at one time of day
    is daily bars however sparse (thin trading, halts, a weekly sample). The requested
    ``timeframe`` is checked against the stamps, not trusted: it settles only what they leave
    open (one stamp a day at varying times of day, or a single stamp).
    """
    stamps = pd.DatetimeIndex(wall).sort_values()
    minutes, how = bar_frequency(stamps)
    if (minutes is None or len(stamps) < 2) and timeframe is not None:
        minutes, how = bar_frequency(stamps, timeframe)
    return minutes, how


def _timeframe_of(minutes: float | None) -> str | None:
    return next((tf for tf, m in TIMEFRAME_MINUTES.items() if minutes == m), None)


def infer_timeframe(index: pd.DatetimeIndex, timeframe: str | None = None) -> str | None:
    """The timeframe of bar stamps by what they are (:func:`file_frequency`); ``None`` if it is
    not one of ours."""
    return _timeframe_of(file_frequency(index, timeframe)[0])


def parse_csv_frame(
    raw: pd.DataFrame, *, tz: str | None = None, source: str = "CSV", timeframe: str | None = None
) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """Pure: text columns -> (OHLCV frame with UTC index, repair notes, details).

    The bar frequency is read from the stamps (:func:`file_frequency`; ``timeframe``, the
    request, settles only what they leave open); daily bars and intraday bars in one file are
    refused. ``details`` holds the column mapping, the date format, whether the close is
    adjusted, whether the bars are daily, the bar length (``bar_minutes``) and how it was read
    (``bar_frequency``), and the exchange time zone used.
    """
    columns = [str(c) for c in raw.columns]
    raw = raw.copy()
    raw.columns = columns
    cols = find_columns(columns)
    if len(raw) == 0:
        raise DataError(f"{source} has a header but no data rows")
    wall, utc, fmt = parse_dates(raw[cols["date"]], cols["date"])
    time_col = next((c for c in columns if _norm(c) == "time" and c != cols["date"]), None)
    if time_col is not None and bool((wall == wall.normalize()).all()):
        joined = (
            raw[cols["date"]].astype(str).str.strip() + " " + raw[time_col].astype(str).str.strip()
        )
        wall, utc, fmt = parse_dates(joined, f"{cols['date']} + {time_col}")
    notes: list[str] = []
    numeric = [k for k in ("open", "high", "low", "close", "volume") if k in cols]
    decimal = detect_decimal(
        [raw[cols[k]] for k in numeric], str(raw.attrs.get("separator", ",")), source
    )
    frame = pd.DataFrame(
        {k: to_number(raw[cols[k]], cols[k], decimal) for k in ("open", "high", "low", "close")}
    )
    if "volume" in cols:
        frame["volume"] = to_number(raw[cols["volume"]], cols["volume"], decimal)
    else:
        frame["volume"] = 0.0
        notes.append(f"{source} has no volume column; volume set to 0")
    zone = canonical_tz(tz) if tz else "UTC"
    minutes, how = file_frequency(wall, timeframe)
    daily = minutes == 1440.0
    if daily and not bool((wall == wall.normalize()).all()):
        # daily bars stamped at a time of day (16:00, the close): their dates
        clocks = wall - wall.normalize()
        at = sorted({f"{wall[int(i)]:%H:%M}" for i in (clocks.argmin(), clocks.argmax())})
        at_text = " or ".join(at) if clocks.max() - clocks.min() <= pd.Timedelta(hours=1) else "varying times"
        notes.append(f"{source} stamps its daily bars at {at_text}; read as session dates (00:00 UTC)")
    elif minutes != 1440.0 and len(wall) >= 2:
        order = np.argsort(np.asarray(wall.asi8), kind="stable")
        refuse_mixed_frequencies(pd.DatetimeIndex(wall[order]), how, source, frame.iloc[order])
    if daily:
        # a date (even one written as local midnight with an offset) is a session date
        idx = wall.normalize().tz_localize("UTC")
    elif utc is not None:
        idx = utc
    else:
        try:
            idx = wall.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
        except Exception as exc:  # an unknown zone name
            raise DataError(f"unknown time zone {tz!r} for {source}: {one_line(exc)}") from None
        if not tz:
            notes.append(f"{source} gives no time zone; intraday times read as UTC")
    frame.index = pd.DatetimeIndex(idx, name="timestamp")
    if frame.index.hasnans:
        bad = int(frame.index.isna().sum())
        frame = frame[~frame.index.isna()]
        notes.append(
            f"dropped {bad} row(s) whose local time does not exist or is ambiguous in {zone} (DST change)"
        )
    wall_offset = None
    if utc is not None and not daily and not fmt.startswith("epoch"):
        wall_offset = pd.Series(
            wall - utc.tz_localize(None), index=pd.DatetimeIndex(idx, name="timestamp")
        )
    details = {
        "wall_offset": wall_offset,
        "columns": {k: v for k, v in cols.items() if k != "close_is_adjusted"},
        "date_format": fmt,
        "decimal": decimal,
        "adjusted_close": "close_is_adjusted" in cols,
        "daily": daily,
        "bar_minutes": minutes,
        "bar_frequency": how,
        "exchange_tz": zone,
    }
    return frame, notes, details


def _sparse_daily_note(index: pd.DatetimeIndex, source: str) -> str | None:
    """A note for daily bars further apart than a few days (a thinly traded symbol, a weekly or
    monthly sample): read as daily bars, their indicator periods count bars, not days."""
    if len(index) < 3:
        return None
    days = float(np.median(np.diff(index.as_unit("ns").asi8))) / pd.Timedelta(days=1).value
    if days <= 4:
        return None
    return (
        f"{source} holds daily bars a median {days:.0f} days apart (thin trading, halts, or a weekly "
        "or monthly sample); read as daily bars: indicator periods count bars, not days"
    )


def _refuse_off_the_grid(index: pd.DatetimeIndex, timeframe: str, source: str) -> None:
    """Intraday bars whose spacing is none of our timeframes (30 minutes, 2 hours, uneven
    stamps): read as ``timeframe`` their indicator periods and annualisation would be silently
    wrong. Gaps are fine: 1-minute bars with missing minutes are still 1-minute bars."""
    if len(index) < 2:
        return
    gaps = np.diff(index.as_unit("ns").asi8) / pd.Timedelta(minutes=1).value
    gaps = gaps[gaps > 0]
    want = TIMEFRAME_MINUTES[timeframe]
    step = want if timeframe != "4H" else 60  # 4H is built from 1H bars
    if timeframe != "1D" and len(gaps) and bool(np.all(np.isclose(gaps % step, 0.0) | np.isclose(gaps % step, step))):
        return
    median = float(np.median(gaps)) if len(gaps) else 0.0
    spacing = f"{median / 60:g} hours" if median >= 60 else f"{median:g} minutes"
    raise DataError(
        f"{source} holds intraday bars about {spacing} apart, not {timeframe} bars; "
        "Phi-nance reads 1D, 4H, 1H, 15m, 5m or 1m bars: resample the file to one of them"
    )


def fetch_csv(path: str | Path, timeframe: str, *, tz: str | None = None) -> VendorData:
    """Bars from the CSV file at ``path`` (the whole file; the caller slices dates).

    The file's bar frequency (:func:`file_frequency`: what its stamps are, not their median
    gap, so daily bars however sparse are daily) must match ``timeframe``; a 1H file may also
    be read as 4H (resampled like yfinance). Raises :class:`DataError` otherwise, and for a
    file that mixes daily and intraday bars.
    """
    source = f"CSV file {Path(path).name!r}"
    raw = read_csv_file(path)
    try:
        frame, notes, details = parse_csv_frame(raw, tz=tz, source=source, timeframe=timeframe)
    except DataError as exc:
        msg = str(exc)
        raise DataError(msg if msg.startswith(source) else f"{source}: {msg}") from None
    checked = check_ohlcv(frame, what=source)
    notes += checked.repairs
    frame = checked.frame
    tz_name = str(details.pop("exchange_tz"))
    wall_offset = details.pop("wall_offset")
    found = _timeframe_of(details.pop("bar_minutes"))
    sparse = _sparse_daily_note(pd.DatetimeIndex(frame.index), source) if details["daily"] else None
    notes += [sparse] if sparse else []
    if found is None and not details["daily"]:
        _refuse_off_the_grid(pd.DatetimeIndex(frame.index), timeframe, source)
    extra: dict[str, Any] = {"path": str(path), **details, "file_timeframe": found}
    if found is not None and found != timeframe:
        if timeframe == "4H" and found == "1H":
            wall = None
            if wall_offset is not None:  # the file's own wall clock (it gave UTC offsets)
                offs = wall_offset[~wall_offset.index.duplicated(keep="last")].reindex(frame.index)
                wall = pd.DatetimeIndex(
                    frame.index.tz_localize(None) + pd.TimedeltaIndex(offs.to_numpy())
                )
            frame = resample_session_4h(frame, tz_name, wall=wall)
            extra.update(resampled_from="1H", bar_stamp="bin start")
        else:
            raise DataError(
                f"{source} holds {found} bars, not {timeframe}; pass timeframe={found!r}"
            )
    adjustment = "adjusted" if details["adjusted_close"] else "raw"
    return VendorData(frame, adjustment, tz_name, notes=notes, extra=extra)
