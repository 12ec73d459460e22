"""The plain-data wire format between the grader and the student's process.

Messages are JSON objects, each framed by a 4-byte big-endian length. Values are JSON
scalars, lists, string-keyed dicts, and three tagged forms:

- arrays: ``{"__nd__": base64, "dtype": "<f8", "shape": [..], "scalar": bool}``, numeric
  and boolean dtypes only (never ``object``), read back with ``np.frombuffer``;
- references to things that stay on one side: ``{"__ref__": id, "side": "grader"|"student",
  "type": name, "kind": "callable"|"object"|"iterator"}``; the other side can only call
  them or ask for an attribute, through the channel, and gets plain data back;
- tuples ``{"__tuple__": [...]}`` and NumPy generators ``{"__rng__": seed}``.

Nothing is ever unpickled. This module is copied into the sandbox next to the worker,
so it imports only the standard library and NumPy.
"""
from __future__ import annotations

import base64
import json
import math
import struct

import numpy as np

# One message's size: what a call may return. Large enough for every assignment's arrays (a few
# MiB), small enough that a hostile reply cannot exhaust the grader's memory; the sandbox's side
# refuses to send more, so an oversized result fails its own check cleanly.
MAX_MESSAGE = 32 * 1024 * 1024
# Items in all of one value's lists, tuples and dicts together: a check loops over what a call
# returns after the call's clock has stopped, so what it may receive is bounded here.
MAX_ITEMS = 100_000
_ALLOWED_KINDS = "biuf"


class WireError(Exception):
    """A message or a value does not follow the wire format."""


class Rng:
    """Asks the other side for ``np.random.default_rng(seed)``: a Generator cannot travel."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __repr__(self):
        return f"np.random.default_rng({self.seed})"


def encode(value, refer=None, depth=0):
    """Turn a value into JSON-ready plain data.

    Args:
        value: what to send.
        refer: called with anything that is not plain data (a function, an object, an
            iterator); returns the reference dict that stands for it. None refuses them.

    Returns:
        Plain data made of dicts, lists, strings, numbers, booleans and None.
    """
    if depth > 64:
        raise WireError("value nested more than 64 levels deep")
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**63 else float(value)
    if type(value) is float:
        return _float(value)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return _array(value)
    if isinstance(value, Rng):
        return {"__rng__": value.seed}
    # Subclasses are reduced to their base values with the base type's own methods:
    # a student's __eq__, __float__ or __iter__ never runs on the grader's side.
    if isinstance(value, bool):
        return bool(int.__index__(value))
    if isinstance(value, int):
        return encode(int.__index__(value), refer, depth)
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        base = list if isinstance(value, list) else tuple
        items = [encode(v, refer, depth + 1) for v in base.__iter__(value)]
        return items if base is list else {"__tuple__": items}
    if isinstance(value, dict) and all(type(k) is str for k in dict.keys(value)):
        return {k: encode(v, refer, depth + 1) for k, v in dict.items(value) if not k.startswith("__")}
    if refer is None:
        raise WireError(f"cannot send a value of type {type(value).__name__}")
    return refer(value)


def iterated(value, refer):
    """An iterator's items, as the tuple that stands for it on the other side (marked "iterated"):
    a generator returned by the student's code, or by a reference function the grader lends it,
    travels as what it yields, at most MAX_ITEMS items, each encoded with `refer`."""
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise WireError(f"the iterator yielded more than {MAX_ITEMS} items")
    return {"__tuple__": [encode(v, refer) for v in items], "iterated": True}


def items_only(value):
    """A `refer` for the grader's values: an iterator travels as its items, nothing else that is
    not plain data travels at all."""
    if hasattr(value, "__next__"):
        return iterated(value, items_only)
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def _float(x: float):
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _array(value) -> dict:
    scalar = isinstance(value, np.generic)
    arr = np.asarray(value) if scalar else np.ndarray.view(value, np.ndarray)
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise WireError(f"arrays of dtype {arr.dtype} cannot be sent; expected numbers or booleans")
    return {
        "__nd__": base64.b64encode(arr.tobytes(order="C")).decode("ascii"),
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
        "scalar": scalar,
    }


def decode(data, resolve=None):
    """Turn plain data back into values; ``resolve`` maps a reference dict to a local stand-in.

    Raises:
        WireError: the data does not follow the wire format (whatever is wrong with it).
    """
    try:
        return _decode(data, resolve, 0)
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, AttributeError, MemoryError) as exc:
        raise WireError(f"malformed value in a message ({type(exc).__name__}: {str(exc)[:200]})") from None


_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode(data, resolve, depth):
    if depth > 64:
        raise WireError("value nested more than 64 levels deep")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is list:
        return [_decode(v, resolve, depth + 1) for v in data]
    if type(data) is not dict:
        raise WireError(f"unexpected {type(data).__name__} in a message")
    if "__nd__" in data:
        if type(data["__nd__"]) is not str or type(data.get("dtype")) is not str or type(data.get("shape")) is not list:
            raise WireError("malformed array")
        dtype = np.dtype(data["dtype"])
        if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise WireError(f"refused an array of dtype {dtype}")
        if not all(type(n) is int and 0 <= n < 2**40 for n in data["shape"]) or len(data["shape"]) > 32:
            raise WireError("malformed array shape")
        raw = base64.b64decode(data["__nd__"].encode("ascii"), validate=True)
        shape = tuple(data["shape"])
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise WireError("array data does not match its shape")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return arr[()] if data.get("scalar") is True and arr.ndim == 0 else arr
    if "__float__" in data:
        if data["__float__"] not in _FLOATS:
            raise WireError("malformed float")
        return _FLOATS[data["__float__"]]
    if "__tuple__" in data:
        if type(data["__tuple__"]) is not list:
            raise WireError("malformed tuple")
        return tuple(_decode(v, resolve, depth + 1) for v in data["__tuple__"])
    if "__rng__" in data:
        if type(data["__rng__"]) is not int:
            raise WireError("malformed generator seed")
        return np.random.default_rng(data["__rng__"])
    if "__ref__" in data:
        if resolve is None:
            raise WireError("unexpected reference in a message")
        return resolve(data)
    return {k: _decode(v, resolve, depth + 1) for k, v in data.items()}


def count_items(data, limit: int = MAX_ITEMS) -> int:
    """The entries of every list and dict in plain `data` (as `encode` made it), counted without
    recursion; counting stops past `limit`."""
    count, todo = 0, [data]
    while todo and count <= limit:
        value = todo.pop()
        if type(value) is list:
            count += len(value)
            todo.extend(value)
        elif type(value) is dict and "__nd__" not in value:
            count += len(value)
            todo.extend(value.values())
    return count


# A frame: the body's length in 4 bytes, big-endian, then the body, one JSON object in UTF-8.
_HEADER = struct.Struct(">I")


def send(fd: int, message: dict) -> None:
    """Write one framed message to a file descriptor."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise WireError(f"a message of {len(body)} bytes is over the {MAX_MESSAGE}-byte limit "
                        "(return smaller values)")
    _write_all(fd, _HEADER.pack(len(body)) + body)


def unframe(buffer: bytearray) -> dict | None:
    """Pop the first complete message off `buffer`: the one reader of the frame format, for the
    grader's buffered reader with deadlines and the worker's blocking `receive`.

    Args:
        buffer: bytes read so far; a complete frame is removed from its front.

    Returns:
        The message, or None while the buffer holds less than one whole frame.

    Raises:
        WireError: the header announces more than MAX_MESSAGE bytes (known before the body is
            read), or the body is not a JSON object.
        ValueError: the body is not UTF-8 JSON.
    """
    if len(buffer) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack_from(buffer)
    if length > MAX_MESSAGE:
        raise WireError(f"message of {length} bytes is over the {MAX_MESSAGE}-byte limit")
    end = _HEADER.size + length
    if len(buffer) < end:
        return None
    body = bytes(buffer[_HEADER.size:end])
    del buffer[:end]
    message = json.loads(body.decode("utf-8"))
    if type(message) is not dict:
        raise WireError("a message must be a JSON object")
    return message


def _write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, n: int) -> bytes:
    import os

    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict:
    """Read one framed message (blocking); `unframe` judges its header before the body is read."""
    buffer = bytearray(read_exactly(fd, _HEADER.size))
    message = unframe(buffer)
    if message is None:
        buffer += read_exactly(fd, _HEADER.unpack_from(buffer)[0])
        message = unframe(buffer)
    return message


def snapshot_arrays(args, kwargs) -> list:
    """Copies of every array among a call's arguments, nested in lists, tuples and dicts included.

    Both sides use it (the sandbox's worker and the in-kernel backend), so both name the same
    argument when a student's function changes one in place: "#2[0]" is the first entry of the
    second positional argument, "weights[1]" the second entry of the keyword argument weights.
    """
    found = []

    def walk(value, label, depth=0):
        if depth > 16:
            return
        if isinstance(value, np.ndarray):
            found.append((label, value, value.copy()))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{label}[{i}]", depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{label}[{key!r}]", depth + 1)

    for i, value in enumerate(args):
        walk(value, f"#{i + 1}")
    for key, value in kwargs.items():
        walk(value, str(key))
    return found


def changed_arrays(snapshot: list) -> list[str]:
    """The labels of the snapshot's arrays that differ now from their copies."""
    return [label for label, now, then in snapshot
            if now.shape != then.shape or not np.array_equal(now, then, equal_nan=now.dtype.kind in "fc")]
