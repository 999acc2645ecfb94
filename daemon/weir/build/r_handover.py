"""Data frames handed to R and back, typed and lossless, with no R package needed.

R's arrow and duckdb packages are not in Debian, and CSV loses types (and a double's last bits),
so an R recipe's inputs and outputs cross as raw column files both sides read at memory speed:
R's ``readBin``/``writeBin`` and numpy. The layout (``weir/build/r/weir_runner.R`` is the other
side): a directory whose ``meta`` holds NUL-terminated UTF-8 strings — the format tag, the rows,
the columns, then per column its name, type (``integer logical double date timestamp string``),
time zone and ``1`` when a mask of missing values ``K.na`` (a byte per row) comes with the
values ``K.bin``. Integers and logicals carry R's own NA (INT_MIN) and need no mask; a double's
missing value and NaN stay apart.

What does not fit R is refused with the column's name, never rounded: an integer beyond 2^53
(R has no 64-bit integer), a time finer than a microsecond, a type R has no vector for. R holds
a time as a double of seconds: exact to the microsecond from 1834 to 2106 (|t| < 2^32 s),
outside that to R's own precision (whole seconds stay exact).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weir.build.returns import RecipeError

FORMAT = "weir-frame-1"
INT_MIN = -(2**31)  # R's NA_integer_ (and NA of a logical)
EXACT_DOUBLE = 2**53


def _strings(values: list[str]) -> bytes:
    return b"".join(v.encode("utf-8") + b"\0" for v in values)


def _read_strings(raw: bytes) -> list[str]:  # the few strings of `meta`
    return raw.decode("utf-8").split("\0")[:-1] if raw else []


def _mask(arr: pa.Array) -> np.ndarray | None:
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_null(), dtype=np.uint8)


def _nul_joined(arr: pa.Array, what: str) -> bytes:
    """A string array as NUL-terminated UTF-8 values (a missing one as an empty value)."""
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    if len(arr) and pc.any(pc.match_substring(arr, "\0")).as_py():
        raise RecipeError(f"{what} holds a NUL character, which R strings cannot")
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None \
        else np.zeros(0, np.uint8)
    data = data[offsets[0]:offsets[-1]]
    ends = offsets[1:] - offsets[0]
    return np.insert(data, ends, 0).tobytes()


def _column(arr: pa.Array, what: str) -> tuple[str, str, bytes, np.ndarray | None]:
    """(type, time zone, values, mask) of one column as R reads it."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _column(arr.cast(t.value_type), what)
    if pa.types.is_null(t):
        return "logical", "", np.full(len(arr), INT_MIN, np.int32).tobytes(), None
    if pa.types.is_boolean(t):
        values = np.where(np.asarray(arr.is_null()), INT_MIN,
                          np.asarray(pc.fill_null(arr, False), dtype=np.int32))
        return "logical", "", values.astype("<i4").tobytes(), None
    if pa.types.is_integer(t):
        if t == pa.uint64() and len(arr) and (pc.max(arr).as_py() or 0) > EXACT_DOUBLE:
            raise RecipeError(f"{what} holds integers beyond 2^53, which R cannot hold exactly",
                              hint="R's numbers are 32-bit integers or doubles; cast the "
                              "column to a string first")
        filled = np.asarray(pc.fill_null(arr, 0)).astype(np.int64) if len(arr) else \
            np.zeros(0, np.int64)
        low = int(filled.min()) if len(filled) else 0
        high = int(filled.max()) if len(filled) else 0
        if INT_MIN < low and high < 2**31:
            values = np.where(np.asarray(arr.is_null()), INT_MIN, filled).astype("<i4")
            return "integer", "", values.tobytes(), None
        if max(abs(low), abs(high)) > EXACT_DOUBLE:
            raise RecipeError(f"{what} holds integers beyond 2^53, which R cannot hold exactly",
                              hint="R's numbers are 32-bit integers or doubles; cast the "
                              "column to a string first")
        return "double", "", filled.astype("<f8").tobytes(), _mask(arr)
    if pa.types.is_floating(t):
        values = np.asarray(pc.fill_null(arr.cast(pa.float64()), 0.0), dtype="<f8")
        return "double", "", values.tobytes(), _mask(arr)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return "string", "", _nul_joined(arr, what), _mask(arr)
    if pa.types.is_date(t):
        days = np.asarray(pc.fill_null(arr.cast(pa.date32()).cast(pa.int32()), 0))
        return "date", "", days.astype("<f8").tobytes(), _mask(arr)
    if pa.types.is_timestamp(t):
        try:
            micros = arr.cast(pa.timestamp("us", t.tz)).cast(pa.int64())
        except pa.ArrowInvalid:
            raise RecipeError(f"{what} holds times finer than a microsecond, which R cannot "
                              "hold exactly", hint="round them to microseconds first") from None
        us = np.asarray(pc.fill_null(micros, 0))
        # Whole seconds plus the fraction: the double nearest the time, which is what R holds.
        seconds = (us // 1_000_000).astype("<f8") + (us % 1_000_000).astype("<f8") / 1e6
        return "timestamp", t.tz or "", seconds.tobytes(), _mask(arr)
    raise RecipeError(f"{what} is of type {t}, which weir cannot hand to R",
                      hint="R recipes take integers, doubles, strings, booleans, dates and "
                      "timestamps; convert the column first")


def write_frame(table: pa.Table, directory: Path, what: str) -> None:
    """Write ``table`` where R's ``read_frame`` reads it (``what`` names it in errors)."""
    directory.mkdir(parents=True)
    meta = [FORMAT, str(table.num_rows), str(table.num_columns)]
    for k, name in enumerate(table.column_names, start=1):
        column = table.column(k - 1).combine_chunks()
        kind, tz, values, mask = _column(column, f"column '{name}' of {what}")
        (directory / f"{k}.bin").write_bytes(values)
        if mask is not None:
            (directory / f"{k}.na").write_bytes(mask.tobytes())
        meta += [name, kind, tz, "0" if mask is None else "1"]
    (directory / "meta").write_bytes(_strings(meta))


def read_frame(directory: Path, what: str) -> pa.Table:
    """The data frame R's ``write_frame`` wrote, as an Arrow table: integers as int64 (weir's
    integer, whatever width it came in), times to the microsecond."""
    meta = _read_strings((directory / "meta").read_bytes())
    if not meta or meta[0] != FORMAT:
        raise RecipeError(f"{what}: the R side wrote no readable data frame")
    rows, ncol = int(meta[1]), int(meta[2])
    arrays: list[pa.Array] = []
    names: list[str] = []
    for k in range(1, ncol + 1):
        name, kind, tz, has_mask = meta[3 + (k - 1) * 4: 3 + k * 4]
        raw = (directory / f"{k}.bin").read_bytes()
        missing = np.frombuffer((directory / f"{k}.na").read_bytes(), np.uint8).astype(bool) \
            if has_mask == "1" else None
        names.append(name)
        arrays.append(_array(kind, tz, raw, missing, rows))
    return pa.Table.from_arrays(arrays, names=names)


def _split_strings(raw: bytes, rows: int, missing: np.ndarray | None) -> pa.Array:
    """NUL-terminated UTF-8 values as a string array, without a Python string per value."""
    buf = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(buf == 0)
    if len(ends) != rows:
        raise RecipeError(f"the R side wrote {len(ends)} strings for {rows} rows")
    data = np.delete(buf, ends)
    offsets = np.concatenate([[0], ends - np.arange(rows)]).astype(np.int64)
    arr: pa.Array = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets.tobytes()),
                                                     pa.py_buffer(data.tobytes()))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        raise RecipeError("the R recipe returned a string that is not valid UTF-8",
                          hint="enc2utf8() or iconv() it in R first") from None
    if missing is not None and missing.any():
        arr = pc.if_else(pa.array(missing), pa.scalar(None, pa.large_string()), arr)
    return arr.cast(pa.string()) if len(data) < 2**31 else arr


def _array(kind: str, tz: str, raw: bytes, missing: np.ndarray | None, rows: int) -> pa.Array:
    if kind in ("integer", "logical"):
        ints = np.frombuffer(raw, "<i4", count=rows)
        na = ints == INT_MIN
        if kind == "logical":
            return pa.array(ints != 0, type=pa.bool_(), mask=na)
        return pa.array(ints.astype(np.int64), type=pa.int64(), mask=na)
    if kind == "string":
        return _split_strings(raw, rows, missing)
    doubles = np.frombuffer(raw, "<f8", count=rows)
    if kind == "double":
        return pa.array(doubles, type=pa.float64(), mask=missing)
    # A missing date or time is R's NA (a double NA): no mask, the value says it.
    na = np.isnan(doubles) if missing is None else (missing | np.isnan(doubles))
    clean = np.where(na, 0.0, doubles)
    if kind == "date":
        return pa.array(np.floor(clean).astype(np.int32), type=pa.date32(), mask=na)
    if kind == "timestamp":
        whole = np.floor(clean)  # exact, and so is the fraction left
        micros = whole.astype(np.int64) * 1_000_000 + np.round((clean - whole) * 1e6).astype(
            np.int64)
        return pa.array(micros, type=pa.timestamp("us", tz or None), mask=na)
    raise RecipeError(f"the R side wrote a column of unknown type '{kind}'")
