"""The grader's end of the channel: framed messages read within a clock, the process watched meanwhile."""
import os

import pytest

from autograder.sandbox import wire
from autograder.sandbox.channel import Channel, Clock, last_line


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        try:
            os.close(fd)
        except OSError:
            pass


def test_messages_arrive_in_order_and_an_empty_wait_ends_with_the_clock(pipe):
    """Are two messages sent back to back read one at a time, a half-sent third waited for until the
    clock runs out (None, the budget named), and the watch called while waiting?"""
    read_fd, write_fd = pipe
    wire.send(write_fd, {"op": "callback", "ref": 1})
    wire.send(write_fd, {"op": "result", "ok": True})
    os.write(write_fd, b"\x00\x00\x00\x10{")
    looks = []
    channel = Channel(read_fd, watch=lambda: looks.append(1), exited=lambda: False)
    assert channel.receive(Clock(30, None, None)) == {"op": "callback", "ref": 1}
    assert channel.receive(Clock(30, None, None)) == {"op": "result", "ok": True}
    clock = Clock(0.6, None, None)
    assert channel.receive(clock) is None and clock.spent() == "0.6 s"
    assert looks, "the process was never watched while the grader waited"


def test_a_closed_channel_an_exited_process_and_a_watch_that_stops_it_end_the_wait(pipe):
    """Does the reader raise EOFError when the other end closes or the process exited, and pass on
    what the watch raises?"""
    read_fd, write_fd = pipe
    with pytest.raises(RuntimeError, match="over its memory"):
        Channel(read_fd, watch=lambda: (_ for _ in ()).throw(RuntimeError("over its memory")),
                exited=lambda: False).receive(Clock(30, None, None))
    with pytest.raises(EOFError, match="exited"):
        Channel(read_fd, watch=lambda: None, exited=lambda: True).receive(Clock(30, None, None))
    os.close(write_fd)
    with pytest.raises(EOFError, match="closed"):
        Channel(read_fd, watch=lambda: None, exited=lambda: False).receive(Clock(30, None, None))


def test_garbage_on_the_channel_is_refused():
    """Is a frame over the size limit refused from its header, before the grader waits for its body?"""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, (wire.MAX_MESSAGE + 1).to_bytes(4, "big"))
        with pytest.raises(wire.WireError, match="over the"):
            Channel(read_fd, watch=lambda: None, exited=lambda: False).receive(Clock(30, None, None))
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_last_line_names_the_students_innermost_cell_line():
    """Is the last frame of the student's cells named, and nothing for a traceback without one?"""
    traceback = ('File "<cell 2>", line 5, in <module>\n  f()\nFile "<cell 3>", line 2, in sigmoid\n'
                 '  while True: pass\nKeyboardInterrupt')
    assert last_line(traceback) == "cell 3, line 2, in sigmoid"
    assert last_line('File "<cell 1>", line 4, in <module>') == "cell 1, line 4"
    assert last_line(None) == "" and last_line("no frames") == ""
