"""Step 1: layer assignment (longest path, then sinks, chains and sources moved right)."""

from __future__ import annotations

from collections.abc import Hashable


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
