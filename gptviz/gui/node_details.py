"""The full story of one node as HTML: its value, its grad, and the derivatives on its edges."""

from __future__ import annotations

from html import escape

import torch

from ..expr import ExprGraph
from ..expr.walk import local


def full(t: torch.Tensor | None) -> str:
    if t is None:
        return "None"
    with torch.no_grad():
        text = str(t.detach()).removeprefix("tensor(").removesuffix(")")
    return f"<pre>{escape(text)}</pre>" if "\n" in text else f"<code>{escape(text)}</code>"


def node_details_html(graph: ExprGraph, node_id: int) -> str:
    node = graph.nodes[node_id]
    parts = []
    if node.kind == "op":
        result = graph.result_of(node_id)
        parts.append(f"<h3>operation {escape(node.op)}</h3><p><code>{escape(node.text)}</code> "
                     f"(line {node.line}, column {node.column})</p>")
        parts.append(f"<p>grad of its result: {full(graph.grad(result))}</p>")
        terms = graph.backward_step(node_id).terms
        if terms:
            parts.append("<p>local derivatives (chain rule: upstream × local = sent back):</p><ul>")
            for t in terms:
                src = graph.nodes[t.edge.src]
                parts.append(f"<li>to <b>{escape(src.label)}</b> (operand {t.edge.arg + 1}): "
                             f"{escape(local(graph, t))}<br>sent back: {full(t.contribution)}</li>")
            parts.append("</ul>")
        return "".join(parts)
    role = "output" if node_id == graph.output else node.role
    shape = "×".join(map(str, node.shape)) or "scalar"
    parts.append(f"<h3>{escape(node.label)}</h3><p>{role}, shape {shape}, from "
                 f"<code>{escape(node.text)}</code> (line {node.line}, column {node.column})</p>")
    parts.append(f"<p>data: {full(graph.value(node_id))}</p>")
    if node.tensor.requires_grad:
        parts.append(f"<p>grad: {full(graph.grad(node_id))}"
                     + (f" (sum of {graph.passes} backward passes)" if graph.passes > 1 else "") + "</p>")
        if node_id != graph.output:
            terms = graph.backward_step(node_id).terms
            parts.append("<p>its uses (each sends back upstream × local):</p><ul>")
            for t in terms:
                op = graph.nodes[t.op]
                parts.append(f"<li>{escape(op.op)} in <code>{escape(op.text)}</code>: "
                             f"{escape(local(graph, t))} → {full(t.contribution)}</li>")
            parts.append("</ul>")
    else:
        parts.append("<p>no grad: a constant does not require one</p>")
    return "".join(parts)
