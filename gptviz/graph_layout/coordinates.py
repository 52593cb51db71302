"""Step 4: y placement of a layer, by weighted isotonic regression (pool adjacent violators)."""

from __future__ import annotations


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
