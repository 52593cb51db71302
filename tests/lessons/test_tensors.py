"""Text to tensor the way torch would make it, and clear refusals for everything else."""

import pytest
import torch

from gptviz.lessons.tensors import MAX_ELEMENTS, element_text, parse_tensor


@pytest.mark.parametrize("text,expected", [
    ("1", torch.tensor(1)),
    ("1.0", torch.tensor(1.0)),
    ("1 + 1", torch.tensor(1) + torch.tensor(1)),
    ("[1, 2, 3]", torch.tensor([1, 2, 3])),
    ("[1, 2.5]", torch.tensor([1, 2.5])),
    ("[[1, 2], [3, 4]]", torch.tensor([[1, 2], [3, 4]])),
    ("[1, 2, 3] * 2", torch.tensor([1, 2, 3]) * 2),
    ("1 / 2", torch.tensor(1) / torch.tensor(2)),
    ("-[1, -2]", -torch.tensor([1, -2])),
    ("(1 + 2) * 3 - (4 - 1)", torch.tensor(6)),
    ("[]", torch.tensor([])),
])
def test_values_and_dtypes_are_torchs(text, expected):
    tensor = parse_tensor(text).tensor
    assert tensor.dtype == expected.dtype
    assert tensor.shape == expected.shape
    assert torch.equal(tensor, expected)


def test_the_dtype_picker_is_passed_to_torch():
    assert parse_tensor("1", "float32").tensor.dtype == torch.float32
    assert parse_tensor("1.7", "int64").tensor.item() == torch.tensor(1.7, dtype=torch.int64).item() == 1
    assert parse_tensor("0.1", "float16").tensor.item() == torch.tensor(0.1, dtype=torch.float16).item()
    assert parse_tensor("[0, 2]", "bool").tensor.tolist() == [False, True]


def test_the_code_shown_is_the_code_that_makes_it():
    assert parse_tensor("1 + 1").code == "torch.tensor(1) + torch.tensor(1)"
    assert parse_tensor("[1,2, 3]", "float32").code == "torch.tensor([1, 2, 3], dtype=torch.float32)"
    parsed = parse_tensor("(1 + 2) * 3 - (4 - 1)")
    assert parsed.code == ("(torch.tensor(1) + torch.tensor(2)) * torch.tensor(3) - "
                           "(torch.tensor(4) - torch.tensor(1))")
    assert torch.equal(eval(parsed.code, {"torch": torch}), parsed.tensor)  # our own text, not a user's


def test_a_shape_mismatch_gives_torchs_message():
    with pytest.raises(RuntimeError) as raised:
        torch.tensor([1, 2, 3]) * torch.tensor([1, 2])
    with pytest.raises(ValueError) as ours:
        parse_tensor("[1, 2, 3] * [1, 2]")
    assert str(ours.value) == str(raised.value)


@pytest.mark.parametrize("text,words", [
    ("", "empty"),
    ("[1, 2", "is not a number"),
    ("[[1, 2], [3]]", "different shapes"),
    ("__import__('os').getcwd()", "is not a number"),
    ("x", "is not a number"),
    ("True", "not a number here"),
    ("[1 + 1, 2]", "inside a list"),
    ("(1 + 2) ** 3", "not **"),
    ("[1, 2] @ [1, 2]", "not @"),
    ("99999999999999999999999", "too large"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ("-" * 9000 + "1", "nested too deeply"),
    ("1" * 20000, "characters long"),
])
def test_bad_text_is_refused_with_a_reason(text, words):
    with pytest.raises(ValueError) as raised:
        parse_tensor(text)
    assert words in str(raised.value)


def test_sizes_are_capped_for_the_gui_thread():
    column = "[" + ", ".join(["[1]"] * 200) + "]"
    row = "[" + ", ".join(["1"] * 200) + "]"
    with pytest.raises(ValueError, match="the limit here"):
        parse_tensor(f"{column} * {row}")               # 200 × 200 = 40,000 > MAX_ELEMENTS
    assert parse_tensor(f"{column} * {row[:len(row) // 8]}]").tensor.numel() <= MAX_ELEMENTS


def test_element_text_shows_the_dtype():
    assert element_text(2) == "2"
    assert element_text(2.0) == "2.0"
    assert element_text(0.5) == "0.5"
    assert element_text(True) == "True"
    assert element_text(float("nan")) == "nan"
    assert element_text(1.5e-7) == "1.5e-07"
