import json
import os
import random
import subprocess
import sys
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptviz.graph_layout import DEFAULT_SIZE, LONG_SPAN, Layout, layered_layout

EPS = 1e-6


def rect(layout, sizes, node):
    (x, y), (w, h) = layout.positions[node], sizes.get(node, DEFAULT_SIZE)
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def enters(p, q, r):
    """Whether segment p-q passes through the interior of rectangle r (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = r[0] + EPS, r[1] + EPS, r[2] - EPS, r[3] - EPS
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for step, room in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if step == 0:
            if room < 0:
                return False
        elif step < 0:
            t0 = max(t0, room / step)
        else:
            t1 = min(t1, room / step)
    return t0 < t1


def drawn_crossings(layout):
    """Crossings counted on the drawing: the routes cut into straight pieces, collinear pieces
    that overlap or touch merged into one line (a shared bus), then the pairs of lines that meet
    at a point inside both, farther than EPS from their ends (along x, or y for an upright)."""
    flat, upright, slanted = {}, {}, set()
    for route in layout.edge_routes:
        for p, q in zip(route, route[1:]):
            if p[1] == q[1]:
                flat.setdefault(p[1], []).append(sorted((p[0], q[0])))
            elif p[0] == q[0]:
                upright.setdefault(p[0], []).append(sorted((p[1], q[1])))
            else:
                slanted.add((p, q))
    lines = [((a, y), (b, y)) for y, spans in flat.items() for a, b in merged(spans)]
    lines += [((x, a), (x, b)) for x, spans in upright.items() for a, b in merged(spans)]
    return sum(cross(*s, *t) for s, t in combinations(lines + sorted(slanted), 2))


def merged(spans):
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def cross(p, q, r, s):
    """Whether segments p-q and r-s meet at one point inside both."""
    det = (q[0] - p[0]) * (s[1] - r[1]) - (q[1] - p[1]) * (s[0] - r[0])
    if det == 0:
        return False                                            # parallel
    t = ((r[0] - p[0]) * (s[1] - r[1]) - (r[1] - p[1]) * (s[0] - r[0])) / det
    point = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
    return all(min(a[i], b[i]) + EPS < point[i] < max(a[i], b[i]) - EPS
               for a, b in ((p, q), (r, s)) for i in [int(a[0] == b[0])])


@st.composite
def dags(draw, max_nodes=25):
    n = draw(st.integers(1, max_nodes))
    order = draw(st.permutations(range(n)))             # nodes listed in any order, edges forward
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    picked = draw(st.lists(pair, max_size=2 * n))
    if draw(st.booleans()):                             # a path through all: long edges likely
        picked += [(i, i + 1) for i in range(n - 1)]
    edges = [(f"n{order[min(p)]}", f"n{order[max(p)]}") for p in picked]
    nodes = [f"n{i}" for i in range(n)]
    size = st.tuples(st.floats(4, 90), st.floats(4, 40))
    sizes = {node: draw(size) for node in nodes}
    return nodes, edges, sizes


def test_the_checks_themselves():
    box = (10.0, 0.0, 20.0, 10.0)
    assert enters((0, 5), (30, 5), box)
    assert enters((0, -5), (30, 15), box)
    assert not enters((0, 10), (30, 10), box)          # along the border
    assert not enters((0, 5), (10, 5), box)            # ends on the border
    assert not enters((0, -5), (30, -1), box)
    assert cross((0, 0), (10, 10), (0, 10), (10, 0)) and cross((0, 5), (10, 5), (5, 0), (5, 10))
    assert not cross((0, 5), (10, 5), (5, 0), (5, 5))          # a T: touching is not crossing
    assert not cross((0, 0), (10, 10), (0, 1), (10, 11))       # parallel
    assert merged([[5, 8], [0, 2], [2, 3], [1, 4]]) == [[0, 4], [5, 8]]


def check_drawing(nodes, edges, sizes):
    """Layers point right, columns in order, no overlaps, routes border to border around nodes."""
    layout = layered_layout(nodes, edges, sizes)
    rects = {node: rect(layout, sizes, node) for node in nodes}
    for u, v in edges:
        assert layout.layers[u] < layout.layers[v]
    for a, b in combinations(nodes, 2):
        if layout.layers[a] == layout.layers[b]:
            assert layout.positions[a][0] == layout.positions[b][0]
        else:
            first, second = sorted((a, b), key=layout.layers.get)
            assert rects[first][2] < rects[second][0]   # whole columns, in layer order
        ra, rb = rects[a], rects[b]
        assert min(ra[2], rb[2]) - max(ra[0], rb[0]) <= EPS or min(ra[3], rb[3]) - max(ra[1], rb[1]) <= EPS
    assert all(-EPS <= r[0] and -EPS <= r[1] and r[2] <= layout.width + EPS and r[3] <= layout.height + EPS
               for r in rects.values())
    assert all(-EPS <= x <= layout.width + EPS and -EPS <= y <= layout.height + EPS
               for route in layout.edge_routes for x, y in route)

    assert len(layout.edge_routes) == len(edges)
    for (u, v), route in zip(edges, layout.edge_routes):
        assert route[0][0] == pytest.approx(rects[u][2]) and rects[u][1] < route[0][1] < rects[u][3]
        assert route[-1][0] == pytest.approx(rects[v][0]) and rects[v][1] < route[-1][1] < rects[v][3]
        assert all(p[0] <= q[0] for p, q in zip(route, route[1:]))      # always rightward
        for p, q in zip(route, route[1:]):
            hit = [node for node, r in rects.items() if enters(p, q, r)]
            assert not hit, f"{u}->{v}: segment {p}-{q} passes through {hit}"
    assert list(layout.routes) == list(dict.fromkeys(edges))
    for key, route in layout.routes.items():
        assert route is layout.edge_routes[edges.index(key)]


@settings(max_examples=150, deadline=None)
@given(dags())
def test_random_dags_are_drawn_left_to_right_without_overlaps_or_edges_through_nodes(graph):
    check_drawing(*graph)


def test_a_larger_graph_with_long_edges_and_fan_out():
    rng = random.Random(7)
    nodes = [f"v{i}" for i in range(120)]
    edges = [(f"v{i}", f"v{j}") for j in range(1, 120)
             for i in rng.sample(range(j), min(j, rng.randint(1, 3)))]
    edges += edges[::17]                                        # some duplicates
    rng.shuffle(nodes)
    check_drawing(nodes, edges, {v: (rng.uniform(10, 80), rng.uniform(8, 30)) for v in nodes})


@settings(max_examples=40, deadline=None)
@given(dags(max_nodes=15))
def test_the_crossing_count_is_what_the_drawing_shows(graph):
    nodes, edges, sizes = graph
    edges = list(dict.fromkeys(edges))
    layout = layered_layout(nodes, edges, sizes)
    assert layout.crossings == drawn_crossings(layout)


@pytest.mark.parametrize("seed", range(12))
def test_the_crossing_count_is_what_the_drawing_shows_on_larger_graphs_with_long_edges(seed):
    rng = random.Random(seed)
    n = rng.randint(20, 40)
    nodes = [f"v{i}" for i in range(n)]
    edges = [(f"v{i}", f"v{i + 1}") for i in range(n - 1)]
    edges += [(f"v{i}", f"v{j}") for i, j in (sorted(rng.sample(range(n), 2)) for _ in range(n))]
    edges = list(dict.fromkeys(edges))
    sizes = {v: (rng.choice([4, 10, 40]), rng.choice([4, 24, 30])) for v in nodes if rng.random() < 0.5}
    layout = layered_layout(nodes, edges, sizes)
    assert sum(layout.layers[v] - layout.layers[u] > LONG_SPAN for u, v in edges) > 3   # some buses
    assert layout.crossings == drawn_crossings(layout)


def program(lines, *line_edges, inputs):
    """The graph ExprGraph builds for `h = x` and then `lines` copies of one line: each of
    `line_edges` is (op, operands); an operand is an input, "h", "num" (a new constant) or an
    op of the line; each op is an op node plus a value node, the last value the new h."""
    nodes, edges, h = [*inputs, "x"], [], "x"
    for i in range(lines):
        value = {}
        for op, operands in line_edges:
            nodes += [f"{op}{i}.op", f"{op}{i}"]
            for a in operands:
                if a == "num":
                    nodes.append(a := f"num{i}")
                edges.append((h if a == "h" else value.get(a, a), f"{op}{i}.op"))
            edges.append((f"{op}{i}.op", f"{op}{i}"))
            value[op] = f"{op}{i}"
        h = value[op]
    return nodes, edges


def shared_inputs(lines):      # h = tanh(h*w + h*0.5) - y
    return program(lines, ("mw", ["h", "w"]), ("mc", ["h", "num"]), ("add", ["mw", "mc"]),
                   ("tanh", ["add"]), ("sub", ["tanh", "y"]), inputs=["w", "y"])


def reused_weights(lines):     # h = tanh(W @ h + b)
    return program(lines, ("mm", ["W", "h"]), ("add", ["mm", "b"]), ("tanh", ["add"]), inputs=["W", "b"])


@pytest.mark.parametrize(("graph", "inputs"), [(shared_inputs, "wy"), (reused_weights, ["W", "b"])])
def test_inputs_used_all_over_a_program_get_a_bus_each_outside_the_nodes(graph, inputs):
    nodes, edges = graph(12)
    check_drawing(nodes, edges, {})
    layout = layered_layout(nodes, edges)
    assert max(map(len, layout.edge_routes)) <= 6             # no long chains of dummies
    top = min(y for _, y in layout.positions.values()) - DEFAULT_SIZE[1] / 2
    bottom = max(y for _, y in layout.positions.values()) + DEFAULT_SIZE[1] / 2
    lanes = []
    for source in inputs:
        routes = [r for (u, v), r in zip(edges, layout.edge_routes) if u == source and len(r) == 6]
        assert len(routes) >= 10
        assert len({r[1][0] for r in routes}) == len({r[2][1] for r in routes}) == 1   # one track, one lane
        assert len({r[3][0] for r in routes}) == len(routes)   # a drop each
        lanes.append(routes[0][2][1])
        assert lanes[-1] < top or lanes[-1] > bottom
    assert (lanes[0] < top) != (lanes[1] < top)               # one above, one below: no crossings
    assert layout.crossings == drawn_crossings(layout) == 0
    long_program = layered_layout(*graph(50))
    assert len(set(long_program.layers.values())) > 200 and long_program.crossings == 0


EXPRESSION = [  # ((a*b) + (c*d)) * ((e+f) * g), listed so that the input order crosses a lot
    ("c", "m2"), ("g", "m4"), ("a", "m1"), ("f", "p2"), ("d", "m2"), ("b", "m1"), ("e", "p2"),
    ("m1", "p1"), ("p2", "m4"), ("m2", "p1"), ("p1", "out"), ("m4", "out"),
]


def test_an_expression_tree_is_untangled():
    nodes = sorted({n for e in EXPRESSION for n in e}, reverse=True)
    assert layered_layout(nodes, EXPRESSION, sweeps=0).crossings > 0
    layout = layered_layout(nodes, EXPRESSION)
    assert layout.crossings == 0 == drawn_crossings(layout)
    assert layout.layers["out"] == max(layout.layers.values())
    assert layout.layers["g"] == layout.layers["m4"] - 1     # a leaf sits next to its consumer


def test_crossings_that_no_order_avoids_are_counted():
    k33 = [(f"a{i}", f"b{j}") for i in range(3) for j in range(3)]
    assert layered_layout([f"a{i}" for i in range(3)] + [f"b{j}" for j in range(3)], k33).crossings == 9
    swapped = [("a0", "b1"), ("a1", "b0")]                  # one twist: the best order has none
    assert layered_layout(["a0", "a1", "b0", "b1"], swapped).crossings == 0


def test_a_long_edge_bends_around_the_nodes_it_skips():
    nodes, edges = ["x", "a", "b", "c", "y"], [("x", "a"), ("a", "b"), ("b", "c"), ("c", "y"), ("x", "y")]
    layout = layered_layout(nodes, edges)
    route = layout.routes[("x", "y")]
    assert len(route) > 2
    for node in "abc":
        assert not any(enters(p, q, rect(layout, {}, node)) for p, q in zip(route, route[1:]))


def test_duplicate_edges_get_their_own_routes():
    nodes, edges = ["x", "mul", "y", "far"], [("x", "mul"), ("x", "mul"), ("mul", "y"), ("x", "far"),
                                              ("y", "far"), ("x", "far")]
    layout = layered_layout(nodes, edges)
    (r1, r2), (f1, f2) = layout.edge_routes[:2], layout.edge_routes[3::2]
    assert r1 != r2 and f1 != f2
    assert r1[0][0] == r2[0][0] and r1[0][1] != r2[0][1]    # both leave x's right border, apart
    assert layout.routes[("x", "mul")] is r1 and layout.routes[("x", "far")] is f1


def test_parallel_long_edges_share_their_bus_but_get_drops_of_their_own():
    nodes, edges = ["x", "a", "b", "c", "d", "y"], [("x", "a"), ("a", "b"), ("b", "c"), ("c", "d"),
                                                    ("d", "y"), ("x", "y"), ("x", "y")]
    check_drawing(nodes, edges, {})
    r1, r2 = layered_layout(nodes, edges).edge_routes[-2:]
    assert len(r1) == len(r2) == 6 and r1[:3] == r2[:3] and r1[3][0] != r2[3][0]


def test_a_bus_spanning_another_runs_outside_it():
    chain = [f"c{i}" for i in range(10)]
    edges = [*zip(chain, chain[1:]), ("p", "c1"), ("p", "c9"), ("q", "c3"), ("q", "c7")]
    layout = layered_layout([*chain, "p", "q"], edges)
    outer, inner = layout.routes[("p", "c9")], layout.routes[("q", "c7")]
    assert outer[2][1] < inner[2][1] < min(y for _, y in layout.positions.values())   # both above
    assert outer[1][0] < inner[1][0] < inner[3][0] < outer[3][0]
    assert layout.crossings == drawn_crossings(layout) == 0


def test_sinks_move_to_the_last_layer_of_their_component():
    nodes = ["x", "unused", "a", "b", "out", "p", "q"]
    edges = [("x", "unused"), ("x", "a"), ("a", "b"), ("b", "out"), ("p", "q")]
    layout = layered_layout(nodes, edges)
    assert layout.layers["unused"] == layout.layers["out"] == 3
    assert layout.layers["p"] == 0 and layout.layers["q"] == 1


def test_empty_and_single_node():
    assert layered_layout([], []) == Layout({}, {}, {}, 0.0, 0.0, 0)
    layout = layered_layout(["n"], [], {"n": (30.0, 10.0)})
    assert layout.positions == {"n": (15.0, 5.0)} and (layout.width, layout.height) == (30.0, 10.0)


@pytest.mark.parametrize(("nodes", "edges", "message"), [
    (["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")], r"cycle: 'a' -> 'b' -> 'c' -> 'a'"),
    (["a"], [("a", "a")], r"cycle: 'a' -> 'a'"),
    (["a", "b"], [("a", "z")], r"unknown node 'z'"),
    (["a", "a"], [], r"node 'a' is listed twice"),
])
def test_invalid_graphs_are_refused(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        layered_layout(nodes, edges)


SCRIPT = """
import json, random
from gptviz.graph_layout import layered_layout
rng = random.Random(1)
nodes = [f"v{i}" for i in range(60)]
edges = [(f"v{i}", f"v{j}") for j in range(1, 60) for i in rng.sample(range(j), min(j, 2))]
print(json.dumps(repr(layered_layout(nodes, edges))))
"""


def test_the_same_graph_gives_the_same_layout_whatever_the_hash_seed():
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert json.loads(runs[0]) == json.loads(runs[1])
