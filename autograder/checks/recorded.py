"""Keras' results, recorded once per input and course version, so that grading a notebook need not
import TensorFlow (about 5 s, more than most notebooks take to run).

A check computes what Keras gives through a function tagged `@keras_result`: plain inputs
(NumPy arrays, numbers, strings, and tuples, lists and dicts of them) in, plain values out. The
tag looks the call up by the digest of its inputs in `recorded/<assignment>.json`, the results
`python -m autograder record-keras` wrote when it graded the reference solution. A call whose
inputs were not recorded (a student's own weights), or a record made for another version of the
checks module, Keras, TensorFlow or NumPy, is computed by Keras itself: a record only ever saves
time, it never decides a grade Keras would not have given. Within a process every result is
kept, as `functools.lru_cache` kept the Keras objects before.

The record sits beside the checks, with the same protection: the student's process sees neither.
"""
from __future__ import annotations

import base64
import copy
import functools
import hashlib
import importlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np

RECORDS = Path(__file__).resolve().parent / "recorded"
# What a Keras result depends on besides its inputs and the checks module's code: the packages
# (by the names they are installed under).
_VERSIONED = {"keras": ("keras",), "tensorflow": ("tensorflow", "tensorflow-cpu"), "numpy": ("numpy",)}


class Unkeyable(TypeError):
    """An input that has no digest (an object array, a class): the call is computed by Keras."""


# -- the digest of a call's inputs ---------------------------------------------------------------

def digest(name: str, args: tuple, kwargs: dict) -> str:
    """A digest of a call: its function's name and its inputs' types, shapes, dtypes and bytes.

    Raises:
        Unkeyable: an input is not plain data.
    """
    h = hashlib.sha256(name.encode())
    _feed(h, args)
    _feed(h, dict(kwargs))
    return h.hexdigest()


def _feed(h, value) -> None:
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise Unkeyable("an object array")
        h.update(f"A{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        h.update(f"S{value.dtype.str}".encode())
        h.update(value.tobytes())
    elif value is None or isinstance(value, (bool, int, float, str)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        h.update(f"D{np.dtype(value).str}{type(value).__name__};".encode())
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _feed(h, item)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"dict{len(value)}(".encode())
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
        h.update(b")")
    else:
        raise Unkeyable(type(value).__name__)


# -- results as JSON, exactly --------------------------------------------------------------------

def encode(value):
    """A result as JSON data that `decode` turns back into an equal value of the same types."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise Unkeyable("an object array")
        return {"array": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode(),
                "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return {"scalar": base64.b64encode(value.tobytes()).decode(), "dtype": value.dtype.str}
    if isinstance(value, float):
        return {"float": value.hex()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [encode(item) for item in value]}
    raise Unkeyable(type(value).__name__)


def decode(data):
    if not isinstance(data, dict):
        return data
    if "array" in data:
        array = np.frombuffer(base64.b64decode(data["array"]), dtype=np.dtype(data["dtype"]))
        return array.reshape(data["shape"]).copy()
    if "scalar" in data:
        return np.frombuffer(base64.b64decode(data["scalar"]), dtype=np.dtype(data["dtype"]))[0]
    if "float" in data:
        return float.fromhex(data["float"])
    if "tuple" in data:
        return tuple(decode(item) for item in data["tuple"])
    return [decode(item) for item in data["list"]]


# -- the record of one checks module -------------------------------------------------------------

def fingerprint(module_name: str) -> dict:
    """What a record is valid for: the checks module's code and the versions Keras' results depend on."""
    source = Path(importlib.import_module(module_name).__file__).read_bytes()
    versions = {package: next(filter(None, map(_version, names)), None) for package, names in _VERSIONED.items()}
    return {"checks": hashlib.sha256(source).hexdigest(), **versions}


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def record_path(module_name: str) -> Path:
    """The record of a checks module (its name, or its assignment's id)."""
    return RECORDS / f"{module_name.rsplit('.', 1)[-1]}.json"


def uses_keras_results(module) -> bool:
    """Whether a checks module has functions tagged `@keras_result` (and so a record to keep)."""
    return any(hasattr(value, "computed") for value in vars(module).values())


@functools.lru_cache(maxsize=None)
def _stored(module_name: str) -> dict:
    """The recorded results of a checks module: {} if there is none or it was made for other code."""
    try:
        data = json.loads(record_path(module_name).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint(module_name):
        return {}
    results = data.get("results")
    return results if isinstance(results, dict) else {}


def record_state(module_name: str) -> str:
    """"current", "missing" or "stale": whether grading can use the module's record."""
    if not record_path(module_name).exists():
        return "missing"
    return "current" if _stored(module_name) else "stale"


# What a recording session saw: module -> {digest: encoded result} (None: not recording).
_recording: dict[str, dict] | None = None
# Every result of this process: digest -> value.
_memory: dict[str, object] = {}


def start_recording() -> None:
    """From now on every tagged call is computed by Keras and kept, until `stop_recording`."""
    global _recording
    _recording = {}
    _memory.clear()


def stop_recording() -> dict[str, dict]:
    """Stop recording. Returns what was seen: {assignment id: {digest: encoded result}}."""
    global _recording
    seen, _recording = _recording or {}, None
    _memory.clear()
    return {name.rsplit(".", 1)[-1]: results for name, results in seen.items()}


def write_records(seen: dict[str, dict], assignment_ids: list[str]) -> list[Path]:
    """Write `seen` (from `stop_recording`) of these assignments: one file each, and none (no
    stale one left either) for checks that use no Keras result.

    Returns:
        The files written.
    """
    written = []
    for assignment_id in assignment_ids:
        path = record_path(assignment_id)
        if not seen.get(assignment_id):
            path.unlink(missing_ok=True)
            continue
        data = {"fingerprint": fingerprint(f"{__package__}.{assignment_id}"),
                "results": dict(sorted(seen[assignment_id].items()))}
        RECORDS.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")
        written.append(path)
    _stored.cache_clear()
    return written


def keras_result(function):
    """Tag a function that computes a Keras reference from plain inputs: its result is looked up in
    the record (or this process's memory) by its inputs' digest, and computed by Keras otherwise.
    Each call returns its own copy, so a check may change what it gets."""
    module_name = function.__module__
    # by the checks module's file name, however it was imported (pytest, a test, an installed package)
    name = f"{module_name.rsplit('.', 1)[-1]}.{function.__qualname__}"

    @functools.wraps(function)
    def lookup(*args, **kwargs):
        try:
            key = digest(name, args, kwargs)
        except Unkeyable:
            return function(*args, **kwargs)
        if _recording is not None:
            value = _memory[key] if key in _memory else function(*args, **kwargs)
            _recording.setdefault(module_name, {})[key] = encode(value)
        elif key not in _memory:
            stored = _stored(module_name).get(key)
            value = decode(stored) if stored is not None else function(*args, **kwargs)
        else:
            value = _memory[key]
        _memory[key] = value
        return copy.deepcopy(value)

    lookup.computed = function   # Keras itself, for the tests that compare the record with it
    return lookup
