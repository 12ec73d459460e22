"""The plain-data wire format: what crosses, and what is refused."""
import json

import numpy as np
import pytest

from autograder.sandbox import wire


def roundtrip(value, refer=None, resolve=None):
    return wire.decode(json.loads(json.dumps(wire.encode(value, refer))), resolve)


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array(2.5), np.float64(-0.0), np.int64(7),
    np.array([True, False]), np.zeros((0, 3)), np.array([np.nan, np.inf, -np.inf]),
])
def test_arrays_keep_dtype_shape_and_values(value):
    """Does an array or NumPy scalar come back with the same dtype, shape and bits?"""
    back = roundtrip(value)
    assert type(back) is type(value) if isinstance(value, np.generic) else isinstance(back, np.ndarray)
    assert np.asarray(back).dtype == value.dtype and np.shape(back) == np.shape(value)
    assert np.array_equal(back, value, equal_nan=value.dtype.kind == "f")


def test_containers_and_python_scalars():
    """Do lists, tuples, dicts, ints, floats, inf and None come back as themselves?"""
    value = {"a": [1, 2.5, None, True], "t": (1, "x"), "f": float("inf")}
    assert roundtrip(value) == value


def test_subclasses_are_reduced_to_their_base_values():
    """Do a float or list subclass with a lying __eq__ come back as plain float and list?"""
    class Liar(float):
        def __eq__(self, other):
            return True

    class LiarArray(np.ndarray):
        def __eq__(self, other):
            return True

    back = roundtrip([Liar(0.25), np.arange(3.0).view(LiarArray)])
    assert type(back[0]) is float and back[0] == 0.25
    assert type(back[1]) is np.ndarray and not np.array_equal(back[1], np.zeros(3))


def test_object_arrays_and_unknown_objects_are_refused():
    """Are object arrays and arbitrary objects refused when no reference is allowed?"""
    with pytest.raises(wire.WireError, match="dtype object"):
        wire.encode(np.array([object()]))
    with pytest.raises(wire.WireError, match="cannot send"):
        wire.encode(object())


def test_references_stand_for_what_cannot_travel():
    """Is a function sent as a reference and resolved on the other side?"""
    sent = wire.encode([len], refer=lambda v: {"__ref__": 1, "side": "grader", "type": "len", "kind": "callable"})
    back = wire.decode(sent, resolve=lambda ref: ("resolved", ref["__ref__"]))
    assert back == [("resolved", 1)]


def test_a_forged_array_of_dtype_object_is_refused_on_decode():
    """Can a message claiming dtype object make the grader unpickle anything?"""
    with pytest.raises(wire.WireError, match="refused"):
        wire.decode({"__nd__": "", "dtype": "|O", "shape": [0], "scalar": False})


def test_rng_becomes_a_generator():
    """Does Rng(seed) arrive as a NumPy Generator seeded the same way?"""
    g = roundtrip(wire.Rng(5))
    assert isinstance(g, np.random.Generator)
    assert g.random() == np.random.default_rng(5).random()


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


def test_unframe_pops_one_complete_message_and_waits_for_the_rest():
    """Does the one framer return each message once whole, keep what follows, and wait on a part?"""
    first, second = _frame(b'{"op":"ready"}'), _frame(b'{"op":"result","ok":true}')
    buffer = bytearray(first + second[:7])
    assert wire.unframe(buffer) == {"op": "ready"}
    assert buffer == bytearray(second[:7]) and wire.unframe(buffer) is None
    buffer += second[7:]
    assert wire.unframe(buffer) == {"op": "result", "ok": True} and buffer == bytearray()
    assert wire.unframe(buffer) is None


def test_unframe_refuses_an_oversized_length_before_its_body_and_a_non_object():
    """Is a frame over MAX_MESSAGE refused from its header alone, and a JSON list refused as a message?"""
    with pytest.raises(wire.WireError, match="over the"):
        wire.unframe(bytearray((wire.MAX_MESSAGE + 1).to_bytes(4, "big")))
    with pytest.raises(wire.WireError, match="JSON object"):
        wire.unframe(bytearray(_frame(b"[1]")))


def test_blocking_receive_reads_what_send_framed():
    """Do send and the blocking receive (the worker's side) agree on the frame, through a real pipe?"""
    import os

    read_fd, write_fd = os.pipe()
    try:
        wire.send(write_fd, {"op": "call", "args": [1, 2.5]})
        os.write(write_fd, (wire.MAX_MESSAGE + 1).to_bytes(4, "big"))
        assert wire.receive(read_fd) == {"op": "call", "args": [1, 2.5]}
        with pytest.raises(wire.WireError, match="over the"):
            wire.receive(read_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)
