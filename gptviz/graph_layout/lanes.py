"""Step 5: long-edge buses: their side and lane, and the crossings of their lines."""

from __future__ import annotations

import bisect

from .constants import EPS, Point


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
