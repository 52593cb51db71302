"""Property-based fuzz of the explorer's engine.

Any text either builds or raises ProgramError, never anything else; valid random programs give
torch's own values and grads. FUZZ_EXAMPLES sets the examples per property (e.g. 10000 for the
long run: `FUZZ_EXAMPLES=10000 python -m pytest tests/expr/test_fuzz.py`).
"""

import json
import os
import re

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from gptviz.expr import ExprGraph, ProgramError
from gptviz.expr.program import FUNCTIONS

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))

FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

IDENT = re.compile(r"[^\W\d]\w*")

# -- arbitrary text -----------------------------------------------------------------------

ALPHABET = "xyzabeplognstmqr_" + "0123456789" + "+-*/@%=<>&|^~!" + "()[]{},.:;" + "\n\t #'\"\\" + "é\x00"

TOKENS = [
    "x", "y", "a", "b", "r", "_", "__x", "__import__", "exp", "log", "tanh", "relu", "sigmoid", "sin",
    "cos", "sqrt", "abs", "sum", "mean", "foo", "exec", "eval", "lambda", "import", "if", "else", "for",
    "in", "def", "return", "True", "None", "and", "not",
    "0", "1", "2", "2.5", "0.5", "1e30", "1e31", "1e400", "9", "100", "101", "1000", "0x10", "1_000", "1j",
    "99999999999999999999999999999999",
    "+", "-", "*", "/", "**", "@", "//", "%", "=", "+=", "-=", "*=", "/=", "**=", "==", "<", ":=",
    "(", ")", "[", "]", "{", "}", ",", ";", ".", ":", "\n", " ", "\t", "#", "\\", "'a'", '"', "'",
    "f'{x}'", "[1, 2]", "[[1, 2], [3, 4]]", "[[1], [2, 3]]", "[]", "[x]", "x.y", "().__class__",
]


def names_in(text: str) -> set[str]:
    return set(IDENT.findall(text))


def check_builds_or_refuses(text: str, values: dict) -> None:
    try:
        g = ExprGraph.build(text, values)
    except ProgramError as e:
        assert e.line >= 1 and e.column >= 1 and e.message
        return
    # a graph that builds can be shown and exported
    json.dumps(g.to_json(), allow_nan=False)
    for node_id in g.backward_order:
        g.backward_step(node_id)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_random_text_builds_or_raises_program_error(text):
    check_builds_or_refuses(text, {n: 1.0 for n in names_in(text)})


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=16))
def test_random_tokens_build_or_raise_program_error(tokens):
    text = "".join(tokens)
    check_builds_or_refuses(text, {n: 1.0 for n in names_in(text)})


SHAPED_VALUES = st.sampled_from([1.0, 0.0, -1.0, [1.0, 2.0], [0.5, -1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]],
                                 [[1.0], [2.0]], "NaN", "1e39", "[1, 2", "[[1], [2, 3]]", "[]"])


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=16), st.data())
def test_random_tokens_with_shaped_inputs(tokens, data):
    """Tensors of several shapes (and some bad values) reach the broadcasting and matmul checks."""
    text = " ".join(tokens)
    values = {n: data.draw(SHAPED_VALUES, label=n) for n in sorted(names_in(text))}
    check_builds_or_refuses(text, values)


# -- valid programs, checked against torch ------------------------------------------------
#
# A tree is ("var", name) | ("const", number or list) | ("neg", tree) | ("fn", name, tree)
# | ("bin", op, left, right). Every tree is generated with its shape, () or (3,), so that it
# is valid: elementwise ops broadcast a scalar against a vector, `@` takes two vectors, sum and
# mean take a vector to a scalar.

SCALARS = ("x", "y")
VECTORS = ("u", "v")
INPUTS = {"x": 0.75, "y": -1.25, "u": [0.5, -1.5, 2.0], "v": [1.25, 0.25, -0.75]}
ELEMENTWISE = ("exp", "log", "tanh", "relu", "sigmoid", "sin", "cos", "sqrt", "abs")
NUMBER = st.sampled_from([0.5, 1.0, 2.0, 3.0, -1.0, -0.5, 1.5, 0.0])


@st.composite
def tree(draw, shape: tuple, depth: int = 0):
    leaf_only = depth >= 4
    kind = draw(st.sampled_from(["leaf"] if leaf_only else ["leaf", "neg", "fn", "bin", "bin", "reduce"]))
    if kind == "reduce" and shape == ():
        if draw(st.booleans()):
            return ("fn", draw(st.sampled_from(["sum", "mean"])), draw(tree((3,), depth + 1)))
        return ("bin", "@", draw(tree((3,), depth + 1)), draw(tree((3,), depth + 1)))
    if kind in ("leaf", "reduce"):
        if draw(st.integers(0, 3)) == 0:
            if shape == ():
                return ("const", draw(NUMBER))
            return ("const", draw(st.lists(NUMBER, min_size=3, max_size=3)))
        return ("var", draw(st.sampled_from(SCALARS if shape == () else VECTORS)))
    if kind == "neg":
        return ("neg", draw(tree(shape, depth + 1)))
    if kind == "fn":
        return ("fn", draw(st.sampled_from(ELEMENTWISE)), draw(tree(shape, depth + 1)))
    op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
    if shape == ():
        left_shape = right_shape = ()
    else:
        left_shape, right_shape = draw(st.sampled_from([((3,), (3,)), ((3,), ()), ((), (3,))]))
    left, right = draw(tree(left_shape, depth + 1)), draw(tree(right_shape, depth + 1))
    if op == "**" and right_shape == () and not variables(right):
        # a constant exponent is checked against MAX_EXPONENT: keep it small
        right = ("const", draw(st.sampled_from([2.0, 3.0, 0.5, -1.0])))
    return ("bin", op, left, right)


def render(t) -> str:
    """Fully parenthesised source text of a tree."""
    kind = t[0]
    if kind == "var":
        return t[1]
    if kind == "const":
        return repr(t[1]) if not isinstance(t[1], float) or t[1] >= 0 else f"({t[1]!r})"
    if kind == "neg":
        return f"(-{render(t[1])})"
    if kind == "fn":
        return f"{t[1]}({render(t[2])})"
    return f"({render(t[2])} {t[1]} {render(t[3])})"


def render_named(t, lines: list[str]) -> str:
    """The same tree as a program that names every operation's result (t0, t1, ...)."""
    kind = t[0]
    if kind in ("var", "const"):
        return render(t)
    if kind == "neg":
        text = f"-{render_named(t[1], lines)}"
    elif kind == "fn":
        text = f"{t[1]}({render_named(t[2], lines)})"
    else:
        text = f"{render_named(t[2], lines)} {t[1]} {render_named(t[3], lines)}"
    name = f"t{len(lines)}"
    lines.append(f"{name} = {text}")
    return name


TORCH_FN = {"exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "relu": torch.relu,
            "sigmoid": torch.sigmoid, "sin": torch.sin, "cos": torch.cos, "sqrt": torch.sqrt,
            "abs": torch.abs, "sum": torch.sum, "mean": torch.mean}
TORCH_OP = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow,
            "@": torch.matmul}
assert set(TORCH_FN) == set(FUNCTIONS)


def evaluate(t, leaves: dict) -> torch.Tensor:
    """The torch result of a tree, built by walking it (no eval)."""
    kind = t[0]
    if kind == "var":
        return leaves[t[1]]
    if kind == "const":
        return torch.tensor(t[1], dtype=torch.float32)
    if kind == "neg":
        inner = t[1]
        if inner[0] == "const":              # `-2.5` is one literal, as in the program
            return torch.tensor(inner[1], dtype=torch.float32).neg()
        return torch.neg(evaluate(inner, leaves))
    if kind == "fn":
        return TORCH_FN[t[1]](evaluate(t[2], leaves))
    return TORCH_OP[t[1]](evaluate(t[2], leaves), evaluate(t[3], leaves))


def variables(t) -> set[str]:
    if t[0] == "var":
        return {t[1]}
    if t[0] == "const":
        return set()
    return set().union(*(variables(c) for c in t[1:] if isinstance(c, tuple)))


def check_against_torch(program: str, t) -> None:
    g = ExprGraph.build(program, INPUTS)
    leaves = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in INPUTS.items()}
    expected = evaluate(t, leaves)
    assert set(g.program.inputs) == variables(t)
    assert_close(g.value(g.output), expected.detach(), equal_nan=True)
    if not expected.requires_grad:
        assert all(g.grad(n.id) is None for n in g.values())
        return
    expected.backward(torch.ones_like(expected))
    for name in g.program.inputs:
        (node,) = [n for n in g.nodes if n.role == "input" and n.name == name]
        assert_close(g.grad(node.id), leaves[name].grad, equal_nan=True,
                     msg=lambda m, name=name: f"grad of {name} in {program!r}: {m}")


@FUZZ
@given(st.one_of(tree(()), tree((3,))))
def test_valid_programs_match_torch(t):
    check_against_torch(render(t), t)


@FUZZ
@given(tree(()))
def test_valid_programs_with_every_step_named_match_torch(t):
    lines: list[str] = []
    last = render_named(t, lines)
    program = "\n".join(lines) if lines else last
    check_against_torch(program, t)
    # and the chain rule adds up at every value node
    g = ExprGraph.build(program, INPUTS)
    for node_id in g.backward_order:
        step = g.backward_step(node_id)
        if g.nodes[node_id].kind == "value" and node_id != g.output:
            assert_close(step.total, g.grad(node_id), equal_nan=True)
