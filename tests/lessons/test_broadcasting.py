"""The broadcasting rule column by column, and torch's own message for a mismatch."""

import pytest
import torch

from gptviz.lessons.broadcasting import (
    MATCH,
    MISMATCH,
    STRETCHED,
    align,
    parse_shape,
    shape_text,
    stretch_mask,
    torch_error,
)


def torch_message(a, b, op="*"):
    ops = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div}
    with pytest.raises(RuntimeError) as raised:
        ops[op](torch.ones(a), torch.ones(b))
    return str(raised.value)


@pytest.mark.parametrize("a,b", [((2, 3), (3,)), ((2, 1), (1, 3)), ((5, 1, 4), (3, 1)), ((), (2, 2)),
                                 ((4,), (4,)), ((0,), (1,)), ((1,), ())])
def test_the_result_shape_is_torchs(a, b):
    alignment = align(a, b)
    assert alignment.ok and alignment.error is None
    assert alignment.result == tuple(torch.broadcast_shapes(a, b))
    assert alignment.result == tuple((torch.ones(a) * torch.ones(b)).shape)


def test_each_column_says_whether_it_matches_or_is_stretched():
    alignment = align((5, 1, 4), (3, 1))
    assert [(d.a, d.b, d.status, d.result) for d in alignment.dims] == [
        (5, None, STRETCHED, 5),     # b has no dimension here: counts as 1, repeated 5 times
        (1, 3, STRETCHED, 3),        # a's 1 stretched to 3
        (4, 1, STRETCHED, 4),        # b's 1 stretched to 4
    ]
    stretched = [(d.a_stretched, d.b_stretched) for d in alignment.dims]
    assert stretched == [(False, True), (True, False), (False, True)]
    same = align((2, 3), (2, 3))
    assert [d.status for d in same.dims] == [MATCH, MATCH]
    assert not any(d.a_stretched or d.b_stretched for d in same.dims)


@pytest.mark.parametrize("a,b,op", [((3,), (2,), "*"), ((2, 3), (2,), "+"), ((5, 1, 4), (3, 2), "-"),
                                    ((2, 3, 4), (5, 4), "/"), ((2, 3), (4, 5), "*")])
def test_a_mismatch_carries_torchs_own_message(a, b, op):
    alignment = align(a, b, op)
    assert not alignment.ok and alignment.result is None
    assert alignment.error == torch_message(a, b, op)
    assert MISMATCH in [d.status for d in alignment.dims]
    assert any("neither is 1" in line for line in alignment.explanation())


def test_the_mismatch_explanation_names_torchs_dimension_number():
    alignment = align((2, 3), (2,))
    assert "non-singleton dimension 1" in alignment.error
    assert any("calls this dimension 1" in line for line in alignment.explanation())


def test_torch_error_needs_no_memory_for_huge_shapes():
    message = torch_error((10**6, 10**6), (10**6, 3))
    assert message.startswith("The size of tensor a (1000000) must match the size of tensor b (3)")


def test_the_explanation_reads_right_to_left_and_ends_with_the_result():
    lines = align((2, 1), (3,)).explanation()
    assert lines[0].startswith("dim -1: a's size 1 is stretched to 3")
    assert lines[1].startswith("dim -2: b has no dimension here")
    assert lines[-1] == "Result shape: (2, 3)."


def test_stretch_mask_marks_the_reused_copies():
    mask = stretch_mask((3,), (2, 3))
    assert mask.tolist() == [[False, False, False], [True, True, True]]
    mask = stretch_mask((2, 1), (2, 3))
    assert mask.tolist() == [[False, True, True], [False, True, True]]
    assert not stretch_mask((2, 3), (2, 3)).any()


@pytest.mark.parametrize("text,shape", [("2, 3", (2, 3)), ("(2, 3)", (2, 3)), ("[4]", (4,)),
                                        ("torch.Size([5, 1, 4])", (5, 1, 4)), ("()", ()), ("3,", (3,))])
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["2, x", "-1, 3", "2.5", "1, " * 20])
def test_parse_shape_refuses_what_is_not_a_shape(text):
    with pytest.raises(ValueError):
        parse_shape(text)


def test_shape_text():
    assert shape_text((2, 3)) == "(2, 3)"
    assert shape_text((3,)) == "(3,)"
    assert shape_text(()) == "() (a scalar)"
