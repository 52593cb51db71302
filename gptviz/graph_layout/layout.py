"""`layered_layout` and its result `Layout`: the steps of the package docstring, put together."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

from .constants import (
    COORDINATE_ROUNDS,
    DEFAULT_SIZE,
    DUMMY_WEIGHT,
    LANE_GAP,
    LONE_WEIGHT,
    LONG_SPAN,
    PARALLEL_SPREAD,
    PORT_OFFSET,
    TRACK_GAP,
    Point,
)
from .coordinates import _place
from .lanes import _bus_crossings, _lanes
from .layers import _assign_layers
from .ordering import _order


@dataclass(frozen=True)
class Layout:
    positions: dict[Hashable, Point]                   # centre of each node
    routes: dict[tuple[Hashable, Hashable], list[Point]]  # per distinct (from, to): its first edge
    layers: dict[Hashable, int]                        # layer (column) of each node
    width: float
    height: float
    crossings: int                                     # of the drawing's lines: see above
    edge_routes: tuple[list[Point], ...] = ()          # one per input edge, duplicates included


def layered_layout(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]],
                   sizes: Mapping[Hashable, tuple[float, float]] | None = None,
                   *, layer_gap: float = 60.0, node_gap: float = 20.0, sweeps: int = 8) -> Layout:
    """Lay out a DAG left to right; ValueError for a cycle, an unknown or a repeated node.

    `sizes` gives (width, height) per node (DEFAULT_SIZE where missing); `sweeps` is the number
    of ordering passes, alternately down and up the layers.
    """
    index: dict[Hashable, int] = {}
    for node in nodes:
        if node in index:
            raise ValueError(f"node {node!r} is listed twice")
        index[node] = len(index)
    names = list(index)
    pairs = []
    for u, v in edges:
        for end in (u, v):
            if end not in index:
                raise ValueError(f"edge ({u!r}, {v!r}) names an unknown node {end!r}")
        pairs.append((index[u], index[v]))
    n = len(names)
    if n == 0:
        return Layout({}, {}, {}, 0.0, 0.0, 0)
    sizes = sizes or {}
    size = [tuple(map(float, sizes.get(name, DEFAULT_SIZE))) for name in names]
    layer = _assign_layers(names, pairs)
    far = [layer[v] - layer[u] > LONG_SPAN for u, v in pairs]

    # 2. Dummies: vertex ids n, n + 1, ...; chains[k] is edge k's path (a long edge: its ends).
    vlayer, chains = list(layer), []
    for (u, v), long in zip(pairs, far):
        span = 1 if long else layer[v] - layer[u]
        chains.append([u, *range(len(vlayer), len(vlayer) + span - 1), v])
        vlayer += range(layer[u] + 1, layer[u] + span)
    preds: list[list[int]] = [[] for _ in vlayer]
    succs: list[list[int]] = [[] for _ in vlayer]
    for chain in (chain for chain, long in zip(chains, far) if not long):
        for a, b in zip(chain, chain[1:]):
            succs[a].append(b)
            preds[b].append(a)
    buses: dict[int, list[int]] = {}      # 5. per source, its long edges; then their side and lane
    for k in (k for k, long in enumerate(far) if long):
        buses.setdefault(pairs[k][0], []).append(k)
    side, level = _lanes(buses, pairs, layer)
    rises: list[list[int]] = [[] for _ in vlayer]       # per vertex: its bus's side; its drops'
    drops: list[list[int]] = [[] for _ in vlayer]
    for u, ks in buses.items():
        rises[u].append(side[u])
        for k in ks:
            drops[pairs[k][1]].append(side[u])
    rows, crossings = _order(vlayer, preds, succs, rises, drops, sweeps)

    # 4. Coordinates. x: columns; y: stacked, then pulled toward the neighbours' medians.
    size += [(0.0, 0.0)] * (len(vlayer) - n)
    h = [s[1] for s in size]
    col_w = [max((size[v][0] for v in row), default=0.0) for row in rows]
    left = [0.0, *accumulate(w + layer_gap for w in col_w[:-1])]
    right = [l + w for l, w in zip(left, col_w)]
    y, lone = [0.0] * len(vlayer), [False] * len(vlayer)   # lone: a tree of leaves off one vertex
    for v in (v for row in rows for v in row):
        lone[v] = len(succs[v]) == 1 and all(lone[u] for u in preds[v])
    for v in (v for row in reversed(rows) for v in row):
        lone[v] = lone[v] or len(preds[v]) == 1 and all(lone[u] for u in succs[v])
    weight = [(DUMMY_WEIGHT if v >= n else 1.0) * (LONE_WEIGHT if lone[v] else 1.0) for v in range(len(y))]
    pull_in, pull_out = ([[u for u in us if not lone[u]] or us for us in nbrs] for nbrs in (preds, succs))
    for row in rows:
        _place(row, [[] for _ in row], y, h, node_gap, weight)
    for _ in range(COORDINATE_ROUNDS):
        for i in range(1, len(rows)):
            _place(rows[i], [pull_in[v] for v in rows[i]], y, h, node_gap, weight)
        for i in range(len(rows) - 2, -1, -1):
            _place(rows[i], [pull_out[v] for v in rows[i]], y, h, node_gap, weight)
    top, bottom = min(yv - hv / 2 for yv, hv in zip(y, h)), max(yv + hv / 2 for yv, hv in zip(y, h))
    x = [(left[l] + right[l]) / 2 for l in layer]

    # 5. Lanes above the nodes (which move down) and below; tracks spread over their gaps.
    n_up, n_down = (max((level[u] + 1 for u in buses if side[u] == s), default=0) for s in (-1, 1))
    y = [yv + LANE_GAP * n_up - top for yv in y]
    bottom += LANE_GAP * n_up - top
    lane = {u: LANE_GAP * (n_up - 1 - level[u]) if side[u] < 0 else bottom + LANE_GAP * (level[u] + 1)
            for u in buses}
    tracks: dict[int, tuple[list[int], list[int]]] = {}      # per gap: rising buses, dropping edges
    for u, ks in buses.items():
        tracks.setdefault(layer[u], ([], []))[0].append(u)
        for k in ks:
            tracks.setdefault(layer[pairs[k][1]] - 1, ([], []))[1].append(k)
    track_x: dict[int, float] = {}                         # bus u: ~u; edge k: k
    for g, (rising, dropping) in tracks.items():
        rising.sort(key=lambda u: (side[u], -level[u]))     # outer lanes first
        dropping.sort(key=lambda k: (level[pairs[k][0]], side[pairs[k][0]] * y[pairs[k][1]], k))
        step = min(TRACK_GAP, layer_gap / (len(rising) + len(dropping) + 1))
        track_x.update((~u, right[g] + step * (i + 1)) for i, u in enumerate(rising))
        track_x.update((k, left[g + 1] - step * (len(dropping) - i)) for i, k in enumerate(dropping))

    # Routes: column edge to column edge through the dummies, or along a lane; parallel edges spread.
    parallel: dict[tuple[int, int], list[int]] = {}
    for k, pair in enumerate(pairs):
        parallel.setdefault(pair, []).append(k)
    shift = [0.0] * len(pairs)
    for (u, v), ks in parallel.items():
        step = min(PARALLEL_SPREAD, min(h[u], h[v]) / (len(ks) + 1))
        for j, k in enumerate(ks):
            shift[k] = (j - (len(ks) - 1) / 2) * step
    edge_routes, slants = [], {}                            # slants: per gap, short edges' (y0, y1)
    for k, (chain, d) in enumerate(zip(chains, shift)):
        u, v = chain[0], chain[-1]
        start, end = min(x[u] + size[u][0] / 2, right[layer[u]]), max(x[v] - size[v][0] / 2, left[layer[v]])
        if far[k]:
            yu, yv = (y[t] + side[u] * min(PORT_OFFSET, h[t] / 4) for t in (u, v))
            rise, drop = track_x[~u], track_x[k]
            points = [(start, yu), (rise, yu), (rise, lane[u]), (drop, lane[u]), (drop, yv), (end, yv)]
        else:
            ys = [y[u] + d, *(y[t] for t in chain[1:-1]), y[v] + d]
            for t, a, b in zip(chain, ys, ys[1:]):
                slants.setdefault(vlayer[t], []).append((a, b))
            points = [(start, ys[0]), (right[layer[u]], ys[0])]
            for t in chain[1:-1]:
                points += [(left[vlayer[t]], y[t]), (right[vlayer[t]], y[t])]
            points += [(left[layer[v]], ys[-1]), (end, ys[-1])]
        edge_routes.append([p for i, p in enumerate(points) if i == 0 or p != points[i - 1]])
    crossings += _bus_crossings(buses, edge_routes, side, level, left, right, slants)
    routes: dict[tuple[Hashable, Hashable], list[Point]] = {}
    for (u, v), route in zip(pairs, edge_routes):
        routes.setdefault((names[u], names[v]), route)
    return Layout(positions={name: (x[i], y[i]) for i, name in enumerate(names)}, routes=routes,
                  layers=dict(zip(names, layer)), width=right[-1], height=bottom + LANE_GAP * n_down,
                  crossings=crossings, edge_routes=tuple(edge_routes))
