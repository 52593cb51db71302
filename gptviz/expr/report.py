"""Plain-text views of a graph for the terminal: a table of values and grads, and error carets."""

from __future__ import annotations

from .graph import ExprGraph
from .program import ProgramError
from .values import compact


def graph_table(graph: ExprGraph) -> str:
    """One row per value in the order computed: what it is, its shape, value and grad."""
    out = graph.nodes[graph.output]
    rows = [("node", "from", "shape", "value", "grad")]
    for node in graph.values():
        role = "output" if node.id == graph.output else node.role
        made_by = next((graph.nodes[e.src].op for e in graph.edges if e.dst == node.id), "")
        rows.append((f"{node.label}", f"{role}{' (' + made_by + ')' if made_by else ''}",
                     "×".join(map(str, node.shape)) or "scalar",
                     compact(graph.value(node.id)), compact(graph.grad(node.id))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"output {out.label} = {compact(graph.value(out.id))}; grads after "
                 f"{graph.passes} backward pass{'es' if graph.passes != 1 else ''}")
    return "\n".join(lines)


def point_at(text: str, error: ProgramError) -> str:
    """The offending line with a caret under the column an error names."""
    lines = text.splitlines() or [""]
    if not 1 <= error.line <= len(lines):
        return ""
    line = lines[error.line - 1]
    if len(line) > 200:  # keep a window around the column on very long lines
        start = max(0, error.column - 100)
        return "  " + line[start:start + 200] + "\n  " + " " * (error.column - 1 - start) + "^"
    return "  " + line + "\n  " + " " * (error.column - 1) + "^"
