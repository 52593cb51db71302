"""A learner's text -> a torch tensor, safely: numbers, nested lists, and + - * / between them.

The tensors demo lets people type `1`, `[1, 2, 3]` or `1 + 1` and see what torch makes of it.
The text is parsed with `ast` and only literals and four operators are evaluated (never
`eval`). Each literal becomes `torch.tensor(literal, dtype=...)`, so dtypes come out exactly as
torch infers them: int64 for whole numbers, float32 as soon as a number has a decimal point.
Sizes are capped so that everything stays tiny enough for the GUI thread (see DEVELOPERS.md:
big torch ops on a long-lived thread halve training speed).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .broadcasting import align

MAX_TEXT = 10_000        # characters: ast.parse needs a cap before it (deep nesting, MemoryError)
MAX_ELEMENTS = 10_000    # per literal and per result: far below torch's 32k parallel grain
MAX_DEPTH = 32

#: The dtype picker's choices; "as typed" lets torch infer the dtype from the numbers.
DTYPES: dict[str, torch.dtype | None] = {
    "as typed": None,
    "int64": torch.int64,
    "int32": torch.int32,
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bool": torch.bool,
}

OPERATORS: dict[type, tuple[str, int, Callable]] = {   # ast node -> (symbol, precedence, function)
    ast.Add: ("+", 1, operator.add),
    ast.Sub: ("-", 1, operator.sub),
    ast.Mult: ("*", 2, operator.mul),
    ast.Div: ("/", 2, operator.truediv),
}

OTHER_OPERATORS = {ast.Pow: "**", ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&",
                   ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


@dataclass(frozen=True)
class ParsedTensor:
    tensor: torch.Tensor
    code: str            # the same in PyTorch, e.g. "torch.tensor(1) + torch.tensor(1)"


def parse_tensor(text: str, dtype: str = "as typed") -> ParsedTensor:
    """`1`, `[[1, 2], [3, 4]]`, `[1, 2, 3] * 2` ... -> the tensor torch makes of it.

    Raises ValueError with a sentence a learner can act on; where torch itself refuses (a shape
    mismatch, say), the message is torch's own.
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    text = text.strip()
    if not text:
        raise ValueError("empty: type a number such as 1 or 2.5, or a list such as [1, 2, 3]")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is {len(text):,} characters long; the limit is {MAX_TEXT:,}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        if "too many nested" in str(e.msg):
            raise ValueError("the text is nested too deeply") from None
        raise ValueError(f"{shorten(text)!r} is not a number, a list of numbers, or numbers and "
                         "lists joined by + - * /  (write lists as [1, 2, 3])") from None
    except (RecursionError, MemoryError, ValueError):
        raise ValueError("the text is nested too deeply") from None
    try:
        return _evaluate(tree.body, DTYPES[dtype], 0)
    except RecursionError:
        raise ValueError("the text is nested too deeply") from None


def _evaluate(node: ast.AST, dtype: torch.dtype | None, depth: int) -> ParsedTensor:
    if depth > MAX_DEPTH:
        raise ValueError("the text is nested too deeply")
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        symbol, precedence, function = OPERATORS[type(node.op)]
        left = _evaluate(node.left, dtype, depth + 1)
        right = _evaluate(node.right, dtype, depth + 1)
        alignment = align(tuple(left.tensor.shape), tuple(right.tensor.shape), symbol)
        if alignment.result is not None and math.prod(alignment.result) > MAX_ELEMENTS:
            raise ValueError(f"the result would have {math.prod(alignment.result):,} numbers; "
                             f"the limit here is {MAX_ELEMENTS:,}")
        try:
            value = function(left.tensor, right.tensor)
        except RuntimeError as e:          # torch's own words: a shape mismatch, a dtype clash
            raise ValueError(str(e)) from None
        code = f"{_wrap(node.left, left.code, precedence, False)} {symbol} " \
               f"{_wrap(node.right, right.code, precedence, True)}"
        return ParsedTensor(value, code)
    if isinstance(node, ast.BinOp):
        symbol = OTHER_OPERATORS.get(type(node.op), type(node.op).__name__)
        raise ValueError(f"this view knows the operators + - * / between tensors, not {symbol}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and not _is_number(node.operand):
        inner = _evaluate(node.operand, dtype, depth + 1)
        if isinstance(node.op, ast.UAdd):
            return inner
        try:
            return ParsedTensor(-inner.tensor, f"-({inner.code})")
        except RuntimeError as e:
            raise ValueError(str(e)) from None
    value = literal(node)
    dtype_code = "" if dtype is None else f", dtype={dtype}"
    try:
        tensor = torch.tensor(value, dtype=dtype)
    except (ValueError, TypeError, RuntimeError, OverflowError) as e:
        if "Overflow" in str(e):
            raise ValueError("a number is too large for this dtype (int64 holds up to 9223372036854775807)") \
                from None
        raise ValueError(f"torch cannot make a tensor of it: {e}") from None
    return ParsedTensor(tensor, f"torch.tensor({ast.unparse(node)}{dtype_code})")


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _wrap(node: ast.AST, code: str, parent_precedence: int, right_side: bool) -> str:
    """Parentheses where the operator order needs them: (a + b) * c, a - (b - c)."""
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        precedence = OPERATORS[type(node.op)][1]
        if precedence < parent_precedence or (right_side and precedence == parent_precedence):
            return f"({code})"
    return code


def literal(node: ast.AST) -> float | int | list:
    """A number or a rectangular nested list of numbers, from its syntax tree."""
    value, _ = _literal(node, 0, [0])
    return value


def _literal(node: ast.AST, depth: int, count: list[int]) -> tuple[object, tuple[int, ...]]:
    if depth > MAX_DEPTH:
        raise ValueError(f"the list is nested too deeply (limit {MAX_DEPTH} levels)")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and _is_number(node.operand):
        value = node.operand.value
        return (-value if isinstance(node.op, ast.USub) else value), ()
    if _is_number(node):
        count[0] += 1
        if count[0] > MAX_ELEMENTS:
            raise ValueError(f"more than {MAX_ELEMENTS:,} numbers; that is the limit here")
        return node.value, ()
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(element, depth + 1, count) for element in node.elts]
        shapes = [shape for _, shape in items]
        for i, shape in enumerate(shapes[1:], 1):
            if shape != shapes[0]:
                raise ValueError(f"the rows have different shapes ({_shape_text(shapes[0])} and "
                                 f"{_shape_text(shape)}, item {i}): a tensor must be a rectangular block "
                                 "of numbers")
        return [value for value, _ in items], (len(items), *(shapes[0] if shapes else ()))
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        raise ValueError(f"{node.value} is not a number here: use 1 and 0, and pick the bool dtype")
    if isinstance(node, ast.BinOp):
        raise ValueError("inside a list, write plain numbers; put + - * / between whole tensors, "
                         "as in [1, 2, 3] * 2")
    text = shorten(ast.unparse(node))
    raise ValueError(f"{text!r} is not a number or a list of numbers")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "a number" if not shape else "length " + "×".join(str(n) for n in shape)


def element_text(value: object) -> str:
    """One element as a cell shows it: 2 for an integer, 2.0 for a float, True for a bool."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.4g}"
    return text if any(c in text for c in ".e") else text + ".0"


def shorten(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
