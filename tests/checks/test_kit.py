"""The checks' comparisons: what a failure says, read at a glance."""
import numpy as np
import pytest

from autograder.checks.kit import CheckFailure, expect_close, plural


def _failure(got, expected, **options) -> str:
    with pytest.raises(CheckFailure) as raised:
        expect_close(got, expected, call="f(x)", **options)
    return str(raised.value)


def test_whole_numbers_that_must_be_equal_are_compared_as_whole_numbers():
    """Is an integer result (an epoch) compared and shown as an integer, with no relative error?"""
    text = _failure(np.int64(8), 1, rtol=0.0, atol=0.0)
    assert "Expected: 1\nReceived: 8" in text and "Expected exactly 1." in text, text
    assert "relative error" not in text and "rtol" not in text, text


def test_a_rounded_value_never_looks_whole():
    """Are 2433.33 and 1216.67 shown with the digits that show they are not whole numbers?"""
    text = _failure(1216.6666666666667, 2433.3333333333335)
    assert "expected 2433.33, received 1216.67" in text, text


def test_large_arrays_that_read_alike_show_the_entry_that_differs():
    """Two (4, 5) arrays with the same first and last values: is the first differing entry named, in one line each?"""
    expected = np.arange(20.0).reshape(4, 5)
    got = expected.copy()
    got[1, 1] = 60.0
    text = _failure(got, expected)
    assert "Expected: shape (4, 5): [0, 1, 2, ..., 19], whose entry (1, 1) is 6\n" in text, text
    assert "Received: shape (4, 5): [0, 1, 2, ..., 19], whose entry (1, 1) is 60\n" in text, text


def test_an_array_of_one_value_where_a_number_is_expected_says_so():
    """A (1,) result where a scalar is expected: does the hint say to return one number (not the (n,)/(n, 1) hint)?"""
    text = _failure(np.array([0.5]), 0.5)
    assert "one number is expected, not an array of shape (1,)" in text and "(n, 1)" not in text, text


def test_plurals():
    """ "1 row", "2 rows", "1 batch", "3 batches"?"""
    assert [plural(1, "row"), plural(2, "row"), plural(1, "batch", "batches"), plural(3, "batch", "batches")] == \
        ["1 row", "2 rows", "1 batch", "3 batches"]
