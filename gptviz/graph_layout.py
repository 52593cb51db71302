"""Layered left-to-right layout of a directed acyclic graph (Sugiyama style), pure Python.

`layered_layout(nodes, edges, sizes)` puts the nodes in columns (layers) so that every edge
points right, and routes every edge as a polyline that never passes through a node:

1. Layers: longest path from the sources, in Kahn's topological order. Then every sink moves
   to the last layer of its component (the output is last); a chain of vertices (one input
   and one consumer each) moves right next to its consumers if that lengthens no more edges
   than it shortens, only ones from values that fan out anyway (w * x goes next to the sum
   using it); every source moves to just before its first consumer (a constant sits where it
   is used).
2. Dummies: a short edge, spanning 1 < k <= LONG_SPAN layers, becomes a chain through k - 1
   dummy vertices (points), one per layer crossed, so every edge of this "proper" graph joins
   adjacent layers. A long edge (an input used all over a program) gets none: see 5.
3. Order within each layer: barycentre sweeps. Sweeping down, the vertices of a layer are
   sorted by the mean position of their predecessors (vertices with none keep their slot);
   sweeping up, by their successors; a bus (its side is chosen first: see 5) counts as a
   neighbour beyond the top or bottom end of the layer. The crossings between adjacent layers
   are counted after every sweep (an inversion count, buses included) and the best order seen
   is kept.
4. Coordinates: x gives each layer a column as wide as its widest node, `layer_gap` apart,
   nodes centred. y starts stacked (`node_gap` between rectangles); then, sweeping down and
   up, each layer is pulled toward the median y of every vertex's neighbours in the previous
   layer: the positions nearest those targets (weighted least squares) that keep the order
   and the gaps are found exactly by pool-adjacent-violators (isotonic regression). Dummies
   weigh more than nodes, so edges run straight; a tree of leaves hanging off one vertex (the
   0.5 of h * 0.5) weighs little and pulls nothing, so the chain it hangs off does not drift.
5. Lanes: the long edges out of a node form its bus, a horizontal lane above or below all the
   nodes (LANE_GAP apart; the nodes move down below the upper ones), reached by a rising track
   in the gap after the node's column and left by one drop per edge in the gap before its
   target's column. Longest first, a bus takes the side where it would cross fewer buses
   already there; then, shortest first, the lane nearest the nodes where it overlaps no other,
   so a bus spanning another runs outside it. In a gap the rising tracks come first, outer
   lanes' first, then the drops, inner lanes' first, which spares most crossings among them.

Routes leave the source's right border horizontally to its column's edge, cross the gap to
the next column, run through each dummy's column at the dummy's y and enter the target's left
border; a bus's route leaves and enters PORT_OFFSET off the centre, toward its lane. A segment
inside a column runs at the y of that column's own vertex, which no other rectangle there
covers; slanted and upright segments lie in gaps between columns, lanes outside all nodes.
Parallel edges (x feeding x * x twice) get routes of their own (spread ends, or drops of their
own): `Layout.edge_routes` has one route per input edge, in input order, `Layout.routes[(a, b)]`
the first a -> b edge's. Ties are broken by input order, never by hashes: the same input gives
the same layout.

`Layout.crossings` counts the points where two lines of the drawing cross: the inversions
between adjacent layers (each parallel edge counts) and every crossing of a bus's lines. A
stretch that edges share (a bus's track and lane, the stub into a node) is one line, and lines
that only touch (meet closer than EPS to an end) do not cross.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

DEFAULT_SIZE = (40.0, 24.0)   # width, height of a node missing from `sizes`
DUMMY_WEIGHT = 4.0            # pull of a long edge's bend point toward straightness, vs a node's 1
LONE_WEIGHT = 0.01            # times the pull of a leaf hanging off one vertex (a constant)
COORDINATE_ROUNDS = 2         # down-and-up sweeps of the y assignment
PARALLEL_SPREAD = 6.0         # at most this far apart, the ends of parallel edges
LONG_SPAN = 3                 # an edge spanning more layers than this runs along a lane
LANE_GAP = 8.0                # between lanes, and from the nodes to the nearest lane
PORT_OFFSET = 4.0             # a bus leaves or enters a node this far off its centre (at most h/4)
TRACK_GAP = 6.0               # at most this far apart, the upright tracks in a gap between columns
EPS = 1e-6                    # lines meeting closer than this to an end touch rather than cross

Point = tuple[float, float]


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


def _assign_layers(names: list[Hashable], pairs: list[tuple[int, int]]) -> list[int]:
    """1. The layer of each node; ValueError naming a cycle if there is one."""
    n = len(names)
    succs: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in pairs:
        succs[u].append(v)
        indegree[v] += 1
    waiting = indegree[:]
    order = [v for v in range(n) if indegree[v] == 0]
    for u in order:                       # Kahn: `order` grows while it is read
        for v in succs[u]:
            waiting[v] -= 1
            if waiting[v] == 0:
                order.append(v)
    if len(order) < n:
        raise ValueError(f"the graph has a cycle: {' -> '.join(map(repr, _cycle(names, pairs, waiting)))}")
    layer = [0] * n
    for u in order:
        for v in succs[u]:
            layer[v] = max(layer[v], layer[u] + 1)
    parent = list(range(n))               # union-find of the connected components

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = v = parent[parent[v]]
        return v

    for u, v in pairs:
        parent[root(u)] = root(v)
    last: dict[int, int] = {}
    for v in range(n):
        last[root(v)] = max(last.get(root(v), 0), layer[v])
    for v in range(n):
        if indegree[v] and not succs[v]:
            layer[v] = last[root(v)]
    preds: list[list[int]] = [[] for _ in range(n)]
    for u, v in pairs:
        preds[v].append(u)
    for v in reversed(order):             # a chain ending at v moves next to v's consumers
        out = succs[v]
        if not indegree[v] or not out or len(out) == 1 == len(preds[out[0]]) and succs[out[0]]:
            continue                      # a source, a sink, or inside a chain
        chain = [v]
        while len(preds[chain[-1]]) == 1 and len(succs[p := preds[chain[-1]][0]]) == 1 and indegree[p]:
            chain.append(p)
        feeds = [u for u in preds[chain[-1]] if indegree[u]]   # inputs that do not follow
        if len(out) >= len(feeds) and all(len(succs[u]) > 1 for u in feeds):
            slack = min(layer[s] for s in out) - 1 - layer[v]
            for c in chain:
                layer[c] += slack
    for u in range(n):                    # after the sinks: a source feeding only a sink follows it
        if indegree[u] == 0 and succs[u]:
            layer[u] = min(layer[v] for v in succs[u]) - 1
    rank = {l: i for i, l in enumerate(sorted(set(layer)))}   # no layer left empty
    return [rank[l] for l in layer]


def _cycle(names: list[Hashable], pairs: list[tuple[int, int]], waiting: list[int]) -> list[Hashable]:
    """A cycle among the vertices Kahn's algorithm could not free: walk back along predecessors."""
    pred = {}
    for u, v in pairs:
        if waiting[u] and waiting[v]:
            pred.setdefault(v, u)
    v, seen, path = next(v for v in range(len(names)) if waiting[v]), {}, []
    while v not in seen:
        seen[v] = len(path)
        path.append(v)
        v = pred[v]
    cycle = path[seen[v]:][::-1]
    first = cycle.index(min(cycle))       # start from the node listed first
    cycle = cycle[first:] + cycle[:first + 1]
    return [names[c] for c in cycle]


def _order(vlayer: list[int], preds: list[list[int]], succs: list[list[int]], rises: list[list[int]],
           drops: list[list[int]], sweeps: int) -> tuple[list[list[int]], int]:
    """3. The vertices of each layer in order, after barycentre sweeps; and their crossings. A bus
    counts as an edge to (a drop: from) a point above or below the next (previous) layer."""
    rows: list[list[int]] = [[] for _ in range(max(vlayer) + 1)]
    for v, l in enumerate(vlayer):
        rows[l].append(v)
    pos = [0] * len(vlayer)
    for row in rows:
        for i, v in enumerate(row):
            pos[v] = i
    outer_in, outer_out = ([[-1 if s < 0 else len(rows[l + d]) for s in by[v]] for v, l in enumerate(vlayer)]
                           for by, d in ((drops, -1), (rises, 1)))       # a bus's end, as a position
    above, below = ([[b for b in row for s in drops[b] if s == side] for row in rows[1:]] + [[]]
                    for side in (-1, 1))  # per layer, the drops into the next one
    best = _crossings(rows, succs, pos, outer_out, above, below)
    best_rows, stale = [r[:] for r in rows], 0
    for sweep in range(sweeps):
        if best == 0 or stale == 2:       # no better after a sweep down and one up
            break
        down = sweep % 2 == 0
        for i in range(1, len(rows)) if down else range(len(rows) - 2, -1, -1):
            rows[i] = _by_barycentre(rows[i], preds if down else succs, outer_in if down else outer_out, pos)
        count = _crossings(rows, succs, pos, outer_out, above, below)
        stale = 0 if count < best else stale + 1
        if count < best:
            best, best_rows = count, [r[:] for r in rows]
    for row in best_rows:
        for i, v in enumerate(row):
            pos[v] = i
    none: list[list[int]] = [[] for _ in vlayer]
    return best_rows, _crossings(best_rows, succs, pos, none, none, none)


def _by_barycentre(row: list[int], nbrs: list[list[int]], outer: list[list[int]],
                   pos: list[int]) -> list[int]:
    if len(row) < 2:
        return row
    keyed = sorted(((sum(pos[u] for u in nbrs[v]) + sum(outer[v])) / (len(nbrs[v]) + len(outer[v])),
                    pos[v], v) for v in row if nbrs[v] or outer[v])
    movable = iter([v for *_, v in keyed])
    row = [next(movable) if nbrs[v] or outer[v] else v for v in row]
    for i, v in enumerate(row):
        pos[v] = i
    return row


def _crossings(rows: list[list[int]], succs: list[list[int]], pos: list[int], outer: list[list[int]],
               above: list[list[int]], below: list[list[int]]) -> int:
    """Crossings of edges between adjacent layers: pairs whose ends are in opposite orders."""
    total = 0
    for row, down_from_above, up_from_below in zip(rows, above, below):
        ends = sorted(pos[b] for b in down_from_above)
        for out in [[pos[b] for b in succs[a]] + outer[a] for a in row] + [[pos[b] for b in up_from_below]]:
            for p in sorted(out):         # in order; each edge counts the earlier ones it crosses
                total += len(ends) - bisect.bisect_right(ends, p)
                bisect.insort(ends, p)
    return total


def _place(row: list[int], nbrs: list[list[int]], y: list[float], h: list[float],
           gap: float, pull: list[float]) -> None:
    """Move a layer's vertices toward their neighbours' median y, keeping order and gaps."""
    offsets, targets, weights = [], [], []
    offset = 0.0
    for i, v in enumerate(row):
        if i:
            offset += (h[row[i - 1]] + h[v]) / 2 + gap
        ys = sorted(y[u] for u in nbrs[i])
        if ys:
            target, weight = (ys[(len(ys) - 1) // 2] + ys[len(ys) // 2]) / 2, pull[v]
        else:
            target, weight = y[v], 1e-3
        offsets.append(offset)
        targets.append(target - offset)
        weights.append(weight)
    blocks: list[list[float]] = []        # pool adjacent violators: [mean, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            t2, w2, c2 = blocks.pop()
            b = blocks[-1]
            b[0] = (b[0] * b[1] + t2 * w2) / (b[1] + w2)
            b[1] += w2
            b[2] += c2
    i = 0
    for mean, _, count in blocks:
        for _ in range(int(count)):
            y[row[i]] = mean + offsets[i]
            i += 1


def _lanes(buses: dict[int, list[int]], pairs: list[tuple[int, int]],
           layer: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """5. Each bus's side (-1 above the nodes, 1 below) and lane (0: the nearest the nodes)."""
    info = {}                             # bus: first gap, last gap, gaps of its tracks
    for u, ks in buses.items():
        gaps = [layer[pairs[k][1]] - 1 for k in ks]
        info[u] = (layer[u], max(gaps), [layer[u], *gaps])
    side: dict[int, int] = {}
    for u in sorted(buses, key=lambda u: info[u][0] - info[u][1]):          # longest first
        up, down = (sum(_clash(info[u], info[o]) for o in side if side[o] == s) for s in (-1, 1))
        side[u] = -1 if up <= down else 1
    level: dict[int, int] = {}
    taken: dict[int, list[list[tuple[int, int]]]] = {-1: [], 1: []}       # per side, per lane: spans
    for u in sorted(buses, key=lambda u: info[u][1] - info[u][0]):          # shortest first
        g0, g1, _ = info[u]
        lanes = taken[side[u]]
        level[u] = next((i for i, spans in enumerate(lanes) if all(b < g0 or g1 < a for a, b in spans)),
                        len(lanes))
        if level[u] == len(lanes):
            lanes.append([])
        lanes[level[u]].append((g0, g1))
    return side, level


def _clash(a: tuple, b: tuple) -> int:
    """Crossings to expect between two buses on one side: none if they are apart or nested (the
    outer lane for the longer), else the fewer tracks of either that fall within the other."""
    (a0, a1, a_gaps), (b0, b1, b_gaps) = a, b
    if a1 < b0 or b1 < a0 or a0 <= b0 <= b1 <= a1 or b0 <= a0 <= a1 <= b1:
        return 0
    return min(sum(b0 <= g <= b1 for g in a_gaps), sum(a0 <= g <= a1 for g in b_gaps))


def _bus_crossings(buses: dict[int, list[int]], routes: list[list[Point]], side: dict[int, int],
                   level: dict[int, int], left: list[float], right: list[float],
                   slants: dict[int, list[tuple[float, float]]]) -> int:
    """5. The crossings of the buses' lines, with one another and with the short edges."""
    vert: dict[int, list[tuple]] = {}     # per gap: tracks (x, y0 < y1, side, lane)
    flat: dict[int, list[tuple]] = {}     # per gap: stubs (y, x0 < x1) from the node or the drops
    spans: dict[tuple[int, int], list[tuple[float, float]]] = {}       # per side and lane
    ports: dict[tuple[int, float], float] = {}                         # entry: its leftmost drop
    for u, ks in buses.items():
        s, l, ((_, yu), (rise, _), (_, ly)) = side[u], level[u], routes[ks[0]][:3]
        g = bisect.bisect(right, rise) - 1
        vert.setdefault(g, []).append((rise, min(yu, ly), max(yu, ly), s, l))
        flat.setdefault(g, []).append((yu, right[g], rise))
        spans.setdefault((s, l), []).append((rise, max(routes[k][3][0] for k in ks)))
        for (drop, _), (_, yv) in (routes[k][3:5] for k in ks):
            g = bisect.bisect(right, drop) - 1
            vert.setdefault(g, []).append((drop, min(yv, ly), max(yv, ly), s, l))
            ports[g, yv] = min(ports.get((g, yv), drop), drop)
    for (g, yv), drop in ports.items():
        flat.setdefault(g, []).append((yv, drop, left[g + 1]))
    for lane in spans.values():
        lane.sort()
    total = 0
    for g, tracks in vert.items():
        x0, x1, segs = right[g], left[g + 1], slants.get(g, [])
        for xv, lo, hi, s, l in tracks:
            t = (xv - x0) / (x1 - x0)
            total += sum(lo + EPS < a + (b - a) * t < hi - EPS for a, b in segs)
            total += sum(a + EPS < xv < b - EPS and lo + EPS < yh < hi - EPS for yh, a, b in flat[g])
            for lane in (spans[s, inner] for inner in range(l)):   # the lanes nearer the nodes
                i = bisect.bisect(lane, (xv,)) - 1
                total += i >= 0 and lane[i][0] + EPS < xv < lane[i][1] - EPS
        for yh, a, b in flat[g]:
            total += sum(a + EPS < x0 + (yh - p) / (q - p) * (x1 - x0) < b - EPS for p, q in segs if p != q)
    return total
