"""Walking a graph one node at a time, forward in evaluation order or backward in reverse
topological order, with the arithmetic of each step written out for a learner."""

from __future__ import annotations

import re

from .graph import ExprGraph
from .ops import OPS
from .values import compact


class Walk:
    """Where a step-through stands: a mode ("forward", "backward" or None) and a position.

    With no mode everything is shown. Forward shows the values computed so far; backward shows
    every value and the grads of the nodes visited so far.
    """

    def __init__(self, graph: ExprGraph):
        self.graph = graph
        self.mode: str | None = None
        self.position = 0                 # how many nodes of `order` have been visited

    @property
    def order(self) -> list[int]:
        if self.mode == "forward":
            return self.graph.forward_order
        if self.mode == "backward":
            return self.graph.backward_order
        return []

    @property
    def current(self) -> int | None:
        return self.order[self.position - 1] if self.mode and self.position > 0 else None

    @property
    def finished(self) -> bool:
        return self.mode is not None and self.position >= len(self.order)

    def start(self, mode: str) -> None:
        if mode not in ("forward", "backward"):
            raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}")
        self.mode, self.position = mode, 0

    def step(self) -> int | None:
        """Visit the next node; None once every node has been visited."""
        if self.mode is None or self.finished:
            return None
        self.position += 1
        return self.current

    def back(self) -> int | None:
        if self.mode and self.position > 0:
            self.position -= 1
        return self.current

    def reset(self) -> None:
        self.mode, self.position = None, 0

    def visited(self) -> set[int]:
        return set(self.order[:self.position])

    def shows_value(self, node_id: int) -> bool:
        if self.mode != "forward":
            return True
        return node_id in self.visited() or self.graph.nodes[node_id].role == "constant"

    def shows_grad(self, node_id: int) -> bool:
        return self.mode is None or (self.mode == "backward" and node_id in self.visited())

    def explain(self, node_id: int | None = None) -> str:
        """The arithmetic at a node (the current one by default), as a few lines of text."""
        node_id = self.current if node_id is None else node_id
        if node_id is None:
            return ""
        if self.mode == "forward":
            return explain_forward(self.graph, node_id)
        return explain_backward(self.graph, node_id)


def explain_forward(graph: ExprGraph, node_id: int) -> str:
    node = graph.nodes[node_id]
    if node.kind == "op":
        args = [graph.nodes[e.src] for e in graph.operands(node_id)]
        result = graph.value(graph.result_of(node_id))
        shown = OPS[node.op].describe(tuple(compact(graph.value(a.id)) for a in args))
        return f"{node.op}: {shown} = {compact(result)}"
    if node.role == "input":
        return f"{node.label} is an input: {compact(graph.value(node_id))}"
    if node.role == "constant":
        return f"the constant {compact(graph.value(node_id))}"
    return f"{node.label} = {compact(graph.value(node_id))}  (from `{node.text}`)"


def explain_backward(graph: ExprGraph, node_id: int) -> str:
    node = graph.nodes[node_id]
    step = graph.backward_step(node_id)
    out = graph.nodes[graph.output]
    if node_id == graph.output:
        return (f"{out.label} is the output: backward starts from d{out.label}/d{out.label} = "
                f"{compact(step.total)}" + passes_note(graph))
    if node.kind == "op":
        result = graph.nodes[graph.result_of(node_id)]
        lines = [f"{node.op} (`{node.text}`) takes the grad of its result, "
                 f"{compact(graph.grad(result.id))}, and sends each operand upstream × local:"]
        for t in step.terms:
            src = graph.nodes[t.edge.src]
            lines.append(f"  to {src.label}: {compact(t.upstream)} × {local(graph, t)} "
                         f"= {compact(t.contribution)}")
        return "\n".join(lines)
    name = symbol(node.label)
    lines = [f"d{out.label}/d{name}: every use of {name} sends back upstream × local:"]
    for t in step.terms:
        op = graph.nodes[t.op]
        lines.append(f"  from {op.op} in `{op.text}`: {compact(t.upstream)} × {local(graph, t)} "
                     f"= {compact(t.contribution)}")
    parts = [compact(t.contribution) for t in step.terms if t.contribution is not None]
    if len(parts) > 1:
        lines.append(f"  running sum: {' + '.join(parts)} = {compact(step.total)}")
    lines.append(f"  {name}.grad = {compact(graph.grad(node_id))}" + passes_note(graph))
    return "\n".join(lines)


def local(graph: ExprGraph, term) -> str:
    """A term's local derivative: its formula with the operands' names put in, and its value."""
    names = [symbol(graph.nodes[e.src].label) for e in graph.operands(term.op)]
    def operand(match: re.Match) -> str:
        i = "ab".index(match.group())
        return names[i] if i < len(names) else match.group()

    formula = re.sub(r"(?<![A-Za-z_])[ab](?![A-Za-z_])", operand, term.local_text)
    if term.local is None:
        return f"({formula})"
    value = compact(term.local)
    return f"({formula})" if formula == value else f"({formula} = {value})"


def symbol(label: str) -> str:
    """A label usable inside a formula: names as they are, expressions in parentheses."""
    return label if label.replace("′", "").isidentifier() else f"({label})"


def passes_note(graph: ExprGraph) -> str:
    if graph.passes > 1:
        return f"  (accumulated over {graph.passes} backward passes — zero grad to start over)"
    return ""
