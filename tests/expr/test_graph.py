"""ExprGraph: values and grads are torch's own, the chain rule adds up, the orders are right."""

import json
import math

import pytest
import torch
from torch.testing import assert_close

from gptviz.expr import MAX_NODES, ExprGraph, ProgramError
from gptviz.expr.program import FUNCTIONS

# -- helpers ------------------------------------------------------------------------------


def input_id(g: ExprGraph, name: str) -> int:
    (node,) = [n for n in g.nodes if n.role == "input" and n.name == name]
    return node.id


def named_id(g: ExprGraph, name: str) -> int:
    """The newest value assigned to `name` (a name may label several nodes over time)."""
    return max(n.id for n in g.nodes if n.kind == "value" and (n.name == name or name in n.aliases))


def torch_reference(fn, inputs: dict):
    """Run `fn` on fresh leaf tensors and backward from a grad of ones, as plain torch would."""
    leaves = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in inputs.items()}
    r = fn(**leaves)
    r.backward(torch.ones_like(r))
    return r.detach(), {k: t.grad for k, t in leaves.items()}


def assert_matches_torch(program: str, inputs: dict, fn) -> ExprGraph:
    g = ExprGraph.build(program, inputs)
    expected, grads = torch_reference(fn, inputs)
    assert set(g.program.inputs) == set(inputs)
    assert_close(g.value(g.output), expected, equal_nan=True)
    for name, grad in grads.items():
        got = g.grad(input_id(g, name))
        if grad is None:
            assert got is None, name
        else:
            assert got is not None, name
            assert_close(got, grad, equal_nan=True, msg=lambda m, name=name: f"grad of {name}: {m}")
    return g


X, Y = 1.5, -0.7
V3 = [0.5, -1.0, 2.0]
M23 = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]
M34 = [[0.3, -0.1, 0.2, 0.7], [-0.5, 0.4, 0.1, 0.0], [0.2, 0.2, -0.3, 0.9]]
POS3 = [0.5, 1.5, 3.0]

# (id, program, inputs, torch reference written by hand)
CASES = [
    # scalars, every operator
    ("add", "x + y", {"x": X, "y": Y}, lambda x, y: x + y),
    ("sub", "x - y", {"x": X, "y": Y}, lambda x, y: x - y),
    ("mul", "x * y", {"x": X, "y": Y}, lambda x, y: x * y),
    ("div", "x / y", {"x": X, "y": Y}, lambda x, y: x / y),
    ("neg", "-x", {"x": X}, lambda x: -x),
    ("neg-of-expression", "-(x * y)", {"x": X, "y": Y}, lambda x, y: -(x * y)),
    ("unary-plus", "+x * y", {"x": X, "y": Y}, lambda x, y: x * y),
    ("pow-const", "x ** 3", {"x": X}, lambda x: x ** 3),
    ("pow-neg-frac", "x ** -0.5", {"x": X}, lambda x: x ** -0.5),
    ("pow-var-var", "x ** y", {"x": X, "y": Y}, lambda x, y: x ** y),
    ("const-pow-var", "2 ** x", {"x": X}, lambda x: 2 ** x),
    ("seed", "x*x + y", {"x": 3.0, "y": -2.0}, lambda x, y: x * x + y),
    ("precedence", "x + y * x ** 2 / 4 - 1", {"x": X, "y": Y}, lambda x, y: x + y * x ** 2 / 4 - 1),
    # every function, scalar
    ("exp", "exp(x)", {"x": X}, torch.exp),
    ("log", "log(x)", {"x": X}, torch.log),
    ("tanh", "tanh(x)", {"x": X}, torch.tanh),
    ("relu-pos", "relu(x)", {"x": X}, torch.relu),
    ("relu-neg", "relu(x)", {"x": -2.0}, torch.relu),
    ("sigmoid", "sigmoid(x)", {"x": X}, torch.sigmoid),
    ("sin", "sin(x)", {"x": X}, torch.sin),
    ("cos", "cos(x)", {"x": X}, torch.cos),
    ("sqrt", "sqrt(x)", {"x": X}, torch.sqrt),
    ("abs-neg", "abs(x)", {"x": -X}, torch.abs),
    ("sum-scalar", "sum(x)", {"x": X}, torch.sum),
    ("mean-scalar", "mean(x)", {"x": X}, torch.mean),
    # every function, tensor
    ("exp-vec", "exp(v)", {"v": V3}, lambda v: torch.exp(v)),
    ("log-vec", "log(v)", {"v": POS3}, lambda v: torch.log(v)),
    ("tanh-mat", "tanh(m)", {"m": M23}, lambda m: torch.tanh(m)),
    ("relu-vec", "relu(v)", {"v": V3}, lambda v: torch.relu(v)),
    ("sigmoid-vec", "sigmoid(v)", {"v": V3}, lambda v: torch.sigmoid(v)),
    ("sin-vec", "sin(v)", {"v": V3}, lambda v: torch.sin(v)),
    ("cos-vec", "cos(v)", {"v": V3}, lambda v: torch.cos(v)),
    ("sqrt-vec", "sqrt(v)", {"v": POS3}, lambda v: torch.sqrt(v)),
    ("abs-vec", "abs(v)", {"v": V3}, lambda v: torch.abs(v)),
    ("sum-mat", "sum(m)", {"m": M23}, lambda m: torch.sum(m)),
    ("mean-mat", "mean(m)", {"m": M23}, lambda m: torch.mean(m)),
    ("composite", "exp(-x*x) * sin(3*y) + log(1 + abs(x)) - sqrt(x*x + 1) / tanh(y)", {"x": X, "y": Y},
     lambda x, y: torch.exp(-x * x) * torch.sin(3 * y) + torch.log(1 + torch.abs(x))
     - torch.sqrt(x * x + 1) / torch.tanh(y)),
    ("nested-functions", "sigmoid(relu(x) - cos(y)) * mean(sin(v) ** 2)", {"x": X, "y": Y, "v": V3},
     lambda x, y, v: torch.sigmoid(torch.relu(x) - torch.cos(y)) * torch.mean(torch.sin(v) ** 2)),
    # matmul
    ("matvec", "W @ v", {"W": M23, "v": V3}, lambda W, v: W @ v),
    ("matmat", "A @ B", {"A": M23, "B": M34}, lambda A, B: A @ B),
    ("vecvec", "u @ v", {"u": POS3, "v": V3}, lambda u, v: u @ v),
    ("vecmat", "v @ B", {"v": V3, "B": M34}, lambda v, B: v @ B),
    ("mlp", "sum(tanh(W @ v + b) ** 2)", {"W": M23, "v": V3, "b": [0.1, -0.1]},
     lambda W, v, b: torch.sum(torch.tanh(W @ v + b) ** 2)),
    ("mse", "mean((A @ B - t) ** 2)", {"A": M23, "B": M34, "t": [1.0, 0.0, -1.0, 0.5]},
     lambda A, B, t: torch.mean((A @ B - t) ** 2)),
    # broadcasting
    ("bcast-mat-vec", "m + v", {"m": M23, "v": V3}, lambda m, v: m + v),
    ("bcast-outer", "c * r", {"c": [[1.0], [-2.0]], "r": [[0.5, 1.0, -1.5]]}, lambda c, r: c * r),
    ("bcast-scalar-mat", "x - m", {"x": X, "m": M23}, lambda x, m: x - m),
    ("bcast-vec-scalar", "v / x", {"v": V3, "x": X}, lambda v, x: v / x),
    ("bcast-pow", "m2 ** u", {"m2": [[0.5, 1.0, 2.0], [3.0, 0.25, 1.5]], "u": [2.0, -1.0, 0.5]},
     lambda m2, u: m2 ** u),
    ("bcast-sum", "sum(c * r + v)", {"c": [[1.0], [-2.0]], "r": [[0.5, 1.0, -1.5]], "v": V3},
     lambda c, r, v: torch.sum(c * r + v)),
    # statements
    ("reassign", "a = x*2\na = a + 1\nr = a * y", {"x": X, "y": Y}, lambda x, y: (x * 2 + 1) * y),
    ("reassign-input-name", "x = x * x\nx = x * x", {"x": X}, lambda x: (x * x) * (x * x)),
    ("augmented", "a = x\na += y\na *= x\na -= 1\na /= y", {"x": X, "y": Y},
     lambda x, y: ((x + y) * x - 1) / y),
    ("augmented-input", "x += 1\nr = x * x", {"x": X}, lambda x: (x + 1) * (x + 1)),
    ("augmented-tensor", "h = W @ v\nh += b\nh *= h\nr = sum(h)", {"W": M23, "v": V3, "b": [0.1, -0.1]},
     lambda W, v, b: torch.sum((W @ v + b) * (W @ v + b))),
    ("fan-out-3", "a = x * y\nr = a * a + exp(a)", {"x": X, "y": Y},
     lambda x, y: (x * y) * (x * y) + torch.exp(x * y)),
    ("fan-out-input-3", "x * x * x", {"x": X}, lambda x: x * x * x),
    ("fan-out-statements", "a = sin(x)\nb = a * 2\nc = a + b\nr = c * a", {"x": X},
     lambda x: (torch.sin(x) + torch.sin(x) * 2) * torch.sin(x)),
    ("semicolons", "a = x * 2; b = a + y; b * b", {"x": X, "y": Y}, lambda x, y: (x * 2 + y) * (x * 2 + y)),
    ("unused-input", "a = y * 2\nr = x * x", {"x": X, "y": Y}, lambda x, y: x * x),
    ("output-alias", "a = x * 2\nr = a", {"x": X}, lambda x: x * 2),
    ("output-is-input", "r = x", {"x": X}, lambda x: x),
    # list literals
    ("list-times-scalar", "sum([1, 2, 3] * x)", {"x": X}, lambda x: torch.sum(torch.tensor([1.0, 2, 3]) * x)),
    ("list-matvec", "[[1, 2], [3, 4]] @ v", {"v": [0.5, -1.0]},
     lambda v: torch.tensor([[1.0, 2], [3, 4]]) @ v),
    ("list-plus", "x + [1.5, -2]", {"x": X}, lambda x: x + torch.tensor([1.5, -2.0])),
    ("list-signs", "[--1, -2, +3] * x", {"x": X}, lambda x: torch.tensor([1.0, -2, 3]) * x),
    # non-scalar output: backward from a grad of ones
    ("vector-output", "x * [1, 2, 3]", {"x": X}, lambda x: x * torch.tensor([1.0, 2, 3])),
    ("matrix-output", "m * m", {"m": M23}, lambda m: m * m),
]


@pytest.fixture(scope="module", autouse=True)
def _warm_torch():
    ExprGraph.build("x*x", {"x": 1.0})   # torch's first op is slow; keep it out of timed tests


@pytest.mark.parametrize("program, inputs, fn", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_and_grads_equal_torch(program, inputs, fn):
    assert_matches_torch(program, inputs, fn)


def test_cases_cover_every_function_and_operator():
    programs = " ".join(c[1] for c in CASES)
    for f in FUNCTIONS:
        assert f + "(" in programs
    for op in ("+", "-", "*", "/", "**", "@", "+=", "-=", "*=", "/="):
        assert op in programs


def test_named_intermediates_have_torch_grads():
    g = ExprGraph.build("a = x * y\nb = a * a + exp(a)\nr = b / 2", {"x": X, "y": Y})
    x = torch.tensor(X, requires_grad=True)
    y = torch.tensor(Y, requires_grad=True)
    a = x * y
    a.retain_grad()
    b = a * a + torch.exp(a)
    b.retain_grad()
    r = b / 2
    r.backward()
    assert_close(g.grad(named_id(g, "a")), a.grad)
    assert_close(g.grad(named_id(g, "b")), b.grad)
    assert_close(g.grad(named_id(g, "r")), torch.tensor(1.0))
    assert_close(g.value(named_id(g, "a")), a.detach())


# -- the seed's cases ---------------------------------------------------------------------


def test_seed_at_x1_y0():
    g = ExprGraph.build("r = x*x + y", {"x": 1, "y": 0})
    assert g.value(g.output).item() == 1.0
    assert g.grad(input_id(g, "x")).item() == 2.0
    assert g.grad(input_id(g, "y")).item() == 1.0
    assert g.grad(g.output).item() == 1.0


def test_seed_at_x0_has_zero_grad_for_x():
    g = ExprGraph.build("r = x*x + y", {"x": 0, "y": 0})
    assert g.value(g.output).item() == 0.0
    assert g.grad(input_id(g, "x")).item() == 0.0
    assert g.grad(input_id(g, "y")).item() == 1.0


@pytest.mark.parametrize("x", [1.0, 0.0, -2.5, 3.0, 1e-3, 100.0, -7.25])
@pytest.mark.parametrize("y", [0.0, 4.0])
def test_seed_dr_dy_is_always_one(x, y):
    g = ExprGraph.build("r = x*x + y", {"x": x, "y": y})
    assert g.grad(input_id(g, "y")).item() == 1.0
    assert g.grad(input_id(g, "x")).item() == pytest.approx(2 * x)
    assert g.value(g.output).item() == pytest.approx(x * x + y)


def test_naming_an_intermediate_changes_nothing():
    inputs = {"x": [1.0, -2.0, 0.5], "y": 3.0}
    plain = ExprGraph.build("x*x + y", inputs)
    named = ExprGraph.build("t = x*x\nt + y", inputs)
    assigned = ExprGraph.build("t = x*x\nr = t + y", inputs)
    for g in (named, assigned):
        assert_close(g.value(g.output), plain.value(plain.output))
        for name in ("x", "y"):
            assert_close(g.grad(input_id(g, name)), plain.grad(input_id(plain, name)))
        assert len(g.nodes) == len(plain.nodes)    # a name labels a node; it adds none
        assert len(g.edges) == len(plain.edges)
        assert_close(g.grad(named_id(g, "t")), torch.ones(3))
    assert [n.label for n in named.nodes if n.name] == ["x", "t", "y"]
    assert [n.label for n in assigned.nodes if n.name] == ["x", "t", "y", "r"]


# -- the chain rule, edge by edge ---------------------------------------------------------


def check_chain_rule(g: ExprGraph) -> None:
    for node_id in g.backward_order:
        node = g.nodes[node_id]
        step = g.backward_step(node_id)
        assert step.node == node_id
        if node.kind == "op":
            result = g.result_of(node_id)
            operands = g.operands(node_id)
            wanted = [e for e in operands if g.nodes[e.src].tensor.requires_grad]
            assert [t.edge for t in step.terms] == wanted      # one term per grad-requiring operand
            assert step.total is None
            for t in step.terms:
                assert t.op == node_id
                assert_close(t.upstream, g.grad(result))        # upstream = grad of the op's result
                assert t.contribution.shape == g.nodes[t.edge.src].tensor.shape
                if t.local is not None:
                    assert_close(t.local * t.upstream, t.contribution, equal_nan=True)
        elif node_id == g.output:
            assert step.terms == ()
            assert_close(step.total, g.grad(node_id))
        else:
            assert step.terms, node.label
            assert all(t.edge.src == node_id for t in step.terms)
            contributions = [t.contribution for t in step.terms if t.contribution is not None]
            total = contributions[0].clone()
            for c in contributions[1:]:
                total = total + c
            assert_close(total, g.grad(node_id), equal_nan=True)
            assert_close(step.total, g.grad(node_id), equal_nan=True)


@pytest.mark.parametrize("program, inputs", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_contributions_add_up_to_every_grad(program, inputs):
    check_chain_rule(ExprGraph.build(program, inputs))


def test_x_times_x_sends_x_times_upstream_along_both_edges():
    g = ExprGraph.build("r = x*x", {"x": 3.0})
    x = input_id(g, "x")
    step = g.backward_step(x)
    assert len(step.terms) == 2
    assert sorted(t.edge.arg for t in step.terms) == [0, 1]
    assert len({t.op for t in step.terms}) == 1
    for t in step.terms:
        assert t.upstream.item() == 1.0
        assert t.local.item() == 3.0                  # ∂(a*b)/∂a = b = x
        assert t.contribution.item() == 3.0           # x · 1
        assert t.local_text in ("a", "b")
    assert step.total.item() == 6.0                   # x·1 + x·1
    assert g.grad(x).item() == 6.0


def test_op_steps_have_one_term_per_grad_requiring_operand():
    g = ExprGraph.build("r = x * 2 + y * x", {"x": 1.5, "y": 2.0})
    ops = {g.nodes[i].text: g.backward_step(i) for i in g.backward_order if g.nodes[i].kind == "op"}
    assert len(ops["x * 2"].terms) == 1                # the constant 2 gets no term
    assert len(ops["y * x"].terms) == 2
    assert len(ops["x * 2 + y * x"].terms) == 2
    assert [t.local_text for t in ops["y * x"].terms] == ["b", "a"]


def test_fan_out_sums_three_uses():
    g = ExprGraph.build("a = x * y\nr = a * a + exp(a)", {"x": 0.5, "y": 2.0})
    a = named_id(g, "a")
    step = g.backward_step(a)
    assert len(step.terms) == 3
    values = sorted(t.contribution.item() for t in step.terms)
    assert values == pytest.approx(sorted([1.0, 1.0, math.exp(1.0)]))
    assert step.total.item() == pytest.approx(2.0 + math.exp(1.0))


def test_local_derivative_is_none_where_shapes_differ():
    g = ExprGraph.build("r = m * v", {"m": M23, "v": V3})
    op = next(i for i in g.backward_order if g.nodes[i].kind == "op")
    m_term, v_term = g.backward_step(op).terms
    assert_close(m_term.local, torch.tensor(V3).expand(2, 3))
    assert v_term.local is None                        # broadcast: not one number per element
    assert_close(v_term.contribution, torch.tensor(M23).sum(0))


def test_unreached_consumers_give_terms_without_contribution():
    g = ExprGraph.build("a = x * 3\nr = x * x", {"x": 2.0})
    step = g.backward_step(input_id(g, "x"))
    assert len(step.terms) == 3
    assert sum(t.contribution is None for t in step.terms) == 1
    assert step.total.item() == 4.0


# -- forward and backward orders ----------------------------------------------------------


def reaches_output(g: ExprGraph) -> set[int]:
    into: dict[int, list[int]] = {}
    for e in g.edges:
        into.setdefault(e.dst, []).append(e.src)
    seen, todo = {g.output}, [g.output]
    while todo:
        for src in into.get(todo.pop(), []):
            if src not in seen:
                seen.add(src)
                todo.append(src)
    return seen


def check_orders(g: ExprGraph) -> None:
    forward = g.forward_order
    assert sorted(forward) == [n.id for n in g.nodes]
    pos = {n: i for i, n in enumerate(forward)}
    for e in g.edges:
        assert pos[e.src] < pos[e.dst]                 # topological

    backward = g.backward_order
    assert len(set(backward)) == len(backward)
    assert backward[0] == g.output
    bpos = {n: i for i, n in enumerate(backward)}
    for e in g.edges:
        if e.src in bpos and e.dst in bpos:
            assert bpos[e.dst] < bpos[e.src]           # each node after every node that uses it

    def needs_grad(i):
        n = g.nodes[i]
        t = g.nodes[g.result_of(i)].tensor if n.kind == "op" else n.tensor
        return t.requires_grad

    assert set(backward) == {i for i in reaches_output(g) if needs_grad(i)}


@pytest.mark.parametrize("program, inputs", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_orders(program, inputs):
    check_orders(ExprGraph.build(program, inputs))


def test_backward_order_of_the_seed():
    g = ExprGraph.build("r = x*x + y", {"x": 1.0, "y": 0.0})
    assert [g.nodes[i].label for i in g.backward_order] == ["r", "+", "y", "x*x", "*", "x"]
    assert [g.nodes[i].label for i in g.forward_order] == ["x", "*", "x*x", "y", "+", "r"]


def test_backward_order_excludes_constants_and_dead_branches():
    g = ExprGraph.build("a = y * 2\nr = x * x + exp(3)", {"x": 1.0, "y": 1.0})
    order = g.backward_order
    labels = [g.nodes[i].label for i in order]
    assert labels == ["r", "+", "x * x", "*", "x"]
    excluded = [n for n in g.nodes if n.id not in order]
    assert {n.label for n in excluded if n.kind == "value"} == {"y", "2", "a", "3", "exp(3)"}
    assert all(n.role != "constant" for n in (g.nodes[i] for i in order))


def test_forward_order_lists_every_node_once():
    g = ExprGraph.build("a = x * 2\nr = a + x", {"x": 1.0})
    assert g.forward_order == list(range(len(g.nodes)))
    assert [n.kind for n in g.nodes] == ["value", "value", "op", "value", "op", "value"]
    assert sorted((e.src, e.dst) for e in g.edges) == [(0, 2), (0, 4), (1, 2), (2, 3), (3, 4), (4, 5)]


# -- grad accumulation --------------------------------------------------------------------


def test_backward_again_adds_and_zero_grad_clears():
    inputs = {"x": [1.0, -2.0], "y": 3.0}
    g = ExprGraph.build("a = x * y\nr = sum(a * x + y)", inputs)
    once = {n.id: g.grad(n.id) for n in g.values()}
    assert g.passes == 1
    assert sum(v is not None for v in once.values()) >= 4

    g.backward()
    assert g.passes == 2
    for i, grad in once.items():
        if grad is None:
            assert g.grad(i) is None
        else:
            assert_close(g.grad(i), 2 * grad)

    g.backward()
    for i, grad in once.items():
        if grad is not None:
            assert_close(g.grad(i), 3 * grad)

    g.zero_grad()
    assert g.passes == 0
    assert all(g.grad(n.id) is None for n in g.values())
    assert g.to_json()["nodes"][0]["grad"] is None

    g.backward()
    for i, grad in once.items():
        if grad is None:
            assert g.grad(i) is None
        else:
            assert_close(g.grad(i), grad)
    check_chain_rule(g)


def test_build_without_backward_has_no_grads():
    g = ExprGraph.build("r = x * x", {"x": 2.0}, backward=False)
    assert all(g.grad(n.id) is None for n in g.values())
    assert g.value(g.output).item() == 4.0
    g.backward()
    assert g.grad(input_id(g, "x")).item() == 4.0


def test_value_and_grad_are_copies():
    g = ExprGraph.build("r = x * x", {"x": 2.0})
    x = input_id(g, "x")
    g.value(x).add_(100)
    g.grad(x).add_(100)
    assert g.value(x).item() == 2.0
    assert g.grad(x).item() == 4.0


# -- JSON -----------------------------------------------------------------------------------


def test_to_json_shape():
    g = ExprGraph.build("t = x*x\nr = t + y", {"x": [1.0, 2.0], "y": 0.5})
    j = json.loads(json.dumps(g.to_json(), allow_nan=False))
    assert {"output", "nodes", "edges"} <= set(j)
    assert j["output"] == "r"
    ids = [n["id"] for n in j["nodes"]]
    assert ids == list(range(len(ids)))
    for n in j["nodes"]:
        assert {"id", "kind", "name", "op", "shape", "value", "grad"} <= set(n)
        assert n["kind"] in ("value", "op")
        if n["kind"] == "op":
            assert n["op"] in ("*", "+")
            assert n["name"] is None and n["value"] is None and n["grad"] is None and n["shape"] is None
        else:
            assert n["op"] is None
            assert isinstance(n["shape"], list)
    by_name = {n["name"]: n for n in j["nodes"] if n["name"]}
    assert set(by_name) == {"x", "t", "y", "r"}
    assert by_name["x"]["value"] == [1.0, 2.0] and by_name["x"]["grad"] == [2.0, 4.0]
    assert by_name["x"]["shape"] == [2]
    assert by_name["y"]["value"] == 0.5 and by_name["y"]["grad"] == 2.0 and by_name["y"]["shape"] == []
    assert by_name["t"]["value"] == [1.0, 4.0] and by_name["t"]["grad"] == [1.0, 1.0]
    assert by_name["r"]["value"] == [1.5, 4.5]
    for edge in j["edges"]:
        assert len(edge) == 2 and all(i in ids for i in edge)
    assert sorted(map(tuple, j["edges"])) == sorted((e.src, e.dst) for e in g.edges)


def test_to_json_names_output_and_constants():
    assert ExprGraph.build("a = x * 2\nr = a", {"x": 1.0}).to_json()["output"] == "r"
    assert ExprGraph.build("x * 2", {"x": 1.0}).to_json()["output"] is None
    j = ExprGraph.build("x * 2", {"x": 1.0}).to_json()
    (const,) = [n for n in j["nodes"] if n["kind"] == "value" and n["name"] is None and n["grad"] is None]
    assert const["value"] == 2.0


def test_to_json_with_non_finite_values_is_strict_json():
    g = ExprGraph.build("r = log(x) + 1/y + sqrt(z)", {"x": 0.0, "y": 0.0, "z": -1.0})
    text = json.dumps(g.to_json(), allow_nan=False)
    j = json.loads(text)
    by_name = {n["name"]: n for n in j["nodes"] if n["name"]}
    assert by_name["x"]["grad"] == "Infinity"           # d log(x)/dx at 0
    assert by_name["y"]["grad"] == "-Infinity"          # d(1/y)/dy at 0
    assert by_name["z"]["grad"] == "NaN"
    assert by_name["r"]["value"] == "NaN"
    values = [n["value"] for n in j["nodes"] if n["kind"] == "value"]
    assert "-Infinity" in values and "Infinity" in values


# -- errors and warnings during evaluation --------------------------------------------------


def test_missing_inputs_are_named():
    with pytest.raises(ProgramError) as e:
        ExprGraph.build("r = x * y + z", {"x": 1.0})
    assert "y" in e.value.message and "z" in e.value.message
    assert (e.value.line, e.value.column) == (1, 1)
    with pytest.raises(ProgramError, match="no value for input x"):
        ExprGraph.build("x")


def test_bad_input_value_points_at_first_use():
    with pytest.raises(ProgramError) as e:
        ExprGraph.build("a = 1\nb = a + x", {"x": "[1, 2"})
    assert (e.value.line, e.value.column) == (2, 9)
    assert e.value.message.startswith("input x:")
    with pytest.raises(ProgramError, match="ragged"):
        ExprGraph.build("x * 2", {"x": [[1, 2], [3]]})


def test_input_values_as_json_text():
    g = ExprGraph.build("sum(x * y)", {"x": "[1, 2.5]", "y": " 2 "})
    assert g.value(g.output).item() == 7.0
    assert_close(g.grad(input_id(g, "x")), torch.tensor([2.0, 2.0]))


def test_broadcasting_error_names_both_shapes():
    with pytest.raises(ProgramError) as e:
        ExprGraph.build("a = 1\nq = m + v * 2", {"m": M23, "v": [1.0, 2.0]})
    assert (e.value.line, e.value.column) == (2, 5)
    assert (e.value.end_line, e.value.end_column) == (2, 14)
    assert "(2, 3)" in e.value.message and "(2,)" in e.value.message
    assert "m + v * 2" in e.value.message


def test_outer_broadcast_error():
    with pytest.raises(ProgramError) as e:
        ExprGraph.build("r = a * b", {"a": [[1.0, 2.0]], "b": [[1.0, 2.0, 3.0]]})
    assert "(1, 2)" in e.value.message and "(1, 3)" in e.value.message
    assert (e.value.line, e.value.column) == (1, 5)


@pytest.mark.parametrize("a, b, fa, fb", [
    (M23, [1.0, 2.0], "(2, 3)", "(2,)"),
    (M23, M23, "(2, 3)", "(2, 3)"),
    ([1.0, 2.0], V3, "(2,)", "(3,)"),
    (1.0, 2.0, "()", "()"),
])
def test_matmul_error_names_both_shapes(a, b, fa, fb):
    with pytest.raises(ProgramError) as e:
        ExprGraph.build("r = 1\nr = a @ b", {"a": a, "b": b})
    assert f"{fa} @ {fb}" in e.value.message
    assert (e.value.line, e.value.column) == (2, 5)


def test_too_many_nodes_refused():
    line = "a = " + "+".join(["x"] * 10) + "\n"     # 9 ops: 18 nodes per line
    per_line, lines_ok = 18, (MAX_NODES - 1) // 18
    g = ExprGraph.build(line * lines_ok, {"x": 1.0})
    assert len(g.nodes) == 1 + per_line * lines_ok <= MAX_NODES
    with pytest.raises(ProgramError, match="more than 1,000 graph nodes") as e:
        ExprGraph.build(line * (lines_ok + 1), {"x": 1.0})
    assert e.value.line == lines_ok + 1


def test_values_too_large_refused():
    with pytest.raises(ProgramError, match="10,100 numbers") as e:
        ExprGraph.build("r = a @ b", {"a": [[1.0]] * 101, "b": [[1.0] * 100]})
    assert (e.value.line, e.value.column) == (1, 5)
    with pytest.raises(ProgramError, match="10,100 numbers"):
        ExprGraph.build("r = a * b", {"a": [[1.0]] * 101, "b": [[1.0] * 100]})
    with pytest.raises(ProgramError, match="input x: the value has 10,001 numbers"):
        ExprGraph.build("x * 2", {"x": [0.0] * 10_001})
    with pytest.raises(ProgramError, match="input x"):
        ExprGraph.build("x * 2", {"x": "[" * 100 + "1" + "]" * 100})


@pytest.mark.parametrize("program, inputs, expected", [
    ("r = log(x)", {"x": 0.0}, -math.inf),
    ("r = 1/x", {"x": 0.0}, math.inf),
    ("r = x ** 100", {"x": 1e3}, math.inf),
    ("r = sqrt(x)", {"x": -1.0}, math.nan),
])
def test_non_finite_results_warn(program, inputs, expected):
    g = ExprGraph.build(program, inputs)
    got = g.value(g.output).item()
    assert math.isnan(got) if math.isnan(expected) else got == expected
    assert any("not finite" in w and "line 1, column 5" in w for w in g.warnings)
    assert any("non-finite grad" in w for w in g.warnings)


def test_finite_program_has_no_warnings():
    assert ExprGraph.build("r = x*x + y", {"x": 1.0, "y": 0.0}).warnings == []


def test_non_scalar_output_warns_and_seeds_ones():
    g = ExprGraph.build("r = x * [1, 2, 3]", {"x": 2.0})
    assert any("(3,)" in w and "ones" in w for w in g.warnings)
    assert g.grad(input_id(g, "x")).item() == 6.0
    assert_close(g.grad(g.output), torch.ones(3))


def test_output_without_inputs_has_no_grads():
    g = ExprGraph.build("r = 2 * 3")
    assert g.value(g.output).item() == 6.0
    assert any("does not depend on any input" in w for w in g.warnings)
    assert all(g.grad(n.id) is None for n in g.values())
    assert g.backward_order == []
