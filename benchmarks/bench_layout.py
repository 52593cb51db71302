"""Time of `layered_layout` on autograd-shaped graphs of about 500 nodes.

Four shapes, each value and op a node (as the autograd explorer draws them):
- "chain": an unrolled expression: every op takes the latest value and either a new leaf, a
  value from a few steps back (fan-out) or the latest value again (x * x: a duplicate edge);
- "mlp": a micrograd-style 2-layer perceptron, every neuron sum(w_i * x_i) + b, then tanh;
- "shared": the program `h = x` then `h = tanh(h*w + h*0.5) - y` on NODES/10 lines, built by
  ExprGraph: the inputs w and y are used on every line, so their edges span the whole graph;
- "weights": `h = tanh(W @ h + b)` 40 times: a 2x2 matrix and a bias reused by every layer.
Prints the median of several runs (ms: wall clock, and CPU time, steadier on a busy machine),
the layers and the crossings of the drawing (`Layout.crossings`). The budget: about 40 ms for
500 nodes, so that parse + evaluate + layout + render stays under 200 ms.

    python benchmarks/bench_layout.py [--nodes 500] [--runs 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from gptviz.graph_layout import layered_layout


def chain_graph(n_nodes: int, seed: int = 0) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(seed)
    nodes, edges, values = ["x0", "x1"], [], ["x0", "x1"]
    while len(nodes) < n_nodes:
        op, out = f"op{len(nodes)}", f"v{len(nodes)}"
        a, r = values[-1], rng.random()
        if r < 0.15:
            operands = [a]                                  # unary: tanh, exp, ...
        elif r < 0.25:
            operands = [a, a]                               # x * x
        elif r < 0.6:
            leaf = f"c{len(nodes)}"
            nodes.append(leaf)
            operands = [a, leaf]                            # a constant or a parameter
        else:
            operands = [a, rng.choice(values[-8:-1])]       # fan-out of an earlier value
        nodes += [op, out]
        edges += [(o, op) for o in operands] + [(op, out)]
        values.append(out)
    return nodes, edges


def mlp_graph(n_in: int = 4, hidden: int = 12, n_out: int = 3) -> tuple[list[str], list[tuple[str, str]]]:
    nodes, edges = [f"x{i}" for i in range(n_in)], []

    def op(name: str, inputs: list[str]) -> str:
        nodes.extend([f"{name}.op", name])
        edges.extend([(i, f"{name}.op") for i in inputs] + [(f"{name}.op", name)])
        return name

    def layer(xs: list[str], width: int, tag: str) -> list[str]:
        outs = []
        for j in range(width):
            acc = nodes.append(f"{tag}b{j}") or f"{tag}b{j}"
            for i, x in enumerate(xs):
                nodes.append(f"{tag}w{j}_{i}")
                acc = op(f"{tag}s{j}_{i}", [acc, op(f"{tag}m{j}_{i}", [f"{tag}w{j}_{i}", x])])
            outs.append(op(f"{tag}t{j}", [acc]))
        return outs

    outs = layer(layer([f"x{i}" for i in range(n_in)], hidden, "h"), n_out, "o")
    op("loss", outs)
    return nodes, edges


def program_graph(text: str, inputs: dict[str, object]) -> tuple[list[int], list[tuple[int, int]]]:
    from gptviz.expr import ExprGraph  # torch: imported only here

    graph = ExprGraph.build(text, inputs)
    return [n.id for n in graph.nodes], [(e.src, e.dst) for e in graph.edges]


def shared_graph(n_nodes: int) -> tuple[list[int], list[tuple[int, int]]]:
    text = "\n".join(["h = x"] + ["h = tanh(h*w + h*0.5) - y"] * max(1, n_nodes // 10))
    return program_graph(text, {"x": 0.3, "w": 0.8, "y": 0.1})


def weights_graph(depth: int = 40) -> tuple[list[int], list[tuple[int, int]]]:
    text = "\n".join(["h = x"] + ["h = tanh(W @ h + b)"] * depth)
    return program_graph(text, {"x": [0.3, -0.2], "W": [[0.8, 0.1], [-0.2, 0.5]], "b": [0.1, 0.0]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cases = (("chain", chain_graph(args.nodes)), ("mlp", mlp_graph()), ("shared", shared_graph(args.nodes)),
             ("weights", weights_graph()))
    for name, (nodes, edges) in cases:
        times, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            layout = layered_layout(nodes, edges)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        bends = sum(len(r) - 2 for r in layout.edge_routes)
        layers = len(set(layout.layers.values()))
        print(f"{name:7s} {len(nodes):4d} nodes {len(edges):4d} edges  {layers:3d} layers"
              f"  {layout.crossings:4d} crossings  {bends:5d} bend points  "
              f"median {1000 * statistics.median(times):6.1f} ms  (min {1000 * min(times):.1f}, "
              f"CPU median {1000 * statistics.median(cpu):.1f})")


if __name__ == "__main__":
    main()
