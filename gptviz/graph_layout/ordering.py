"""Step 3: order within each layer by barycentre sweeps; crossings as inversion counts."""

from __future__ import annotations

import bisect


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
