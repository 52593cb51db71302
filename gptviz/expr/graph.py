"""`ExprGraph`: a program run through torch's autograd, kept as a graph of values and ops.

Every value (input, constant, named or anonymous intermediate, output) is a node holding the
live tensor; every operation is a node between its operands and its result. Inputs require
grad and intermediates retain it, so after `backward()` each value's grad is torch's own.

The chain rule is shown edge by edge. For an op, the contribution it sends back to operand i
is the vector-Jacobian product torch computes for that operand alone: the op is replayed on
detached copies of its operands, so `x * x` sends `x·1` along each of its two edges. The
contributions reaching a value always add up to its grad (`test_expr_graph` checks this).

Sizes stay small on purpose (`MAX_NODES`, `values.MAX_ELEMENTS`): the explorer runs on the
GUI thread, and torch only starts its OpenMP worker threads for ops above ~32k elements —
once a thread has run those, training on another thread slows down (see DEVELOPERS.md).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from .ops import OPS, Op, result_shape
from .program import BINARY, Program, ProgramError, literal_number, parse_program, segment, source_lines
from .values import MAX_ELEMENTS, number, parse_value, plain

MAX_NODES = 1_000


@dataclass
class Node:
    id: int
    kind: str                    # "value" or "op"
    role: str | None = None      # values: "input", "constant" or "intermediate"
    name: str | None = None      # the variable it was assigned to (first one, if several)
    aliases: list[str] = field(default_factory=list)
    version: int = 0             # 0 for a name's first value, 1 after it is reassigned, ...
    op: str | None = None        # op nodes: a key of OPS
    text: str = ""               # source text of the expression it comes from
    line: int = 1
    column: int = 1
    tensor: torch.Tensor | None = None

    @property
    def label(self) -> str:
        if self.kind == "op":
            return self.op
        names = [self.name, *self.aliases] if self.name else []
        if names:
            return ", ".join(n + "′" * self.version for n in names)
        return self.text

    @property
    def shape(self) -> tuple[int, ...] | None:
        return tuple(self.tensor.shape) if self.tensor is not None else None


@dataclass(frozen=True)
class Edge:
    src: int
    dst: int
    arg: int | None = None       # operand position for value -> op edges; None for op -> result


@dataclass(frozen=True)
class Term:
    """One product of the chain rule: upstream grad × local derivative = contribution."""
    edge: Edge
    op: int                      # the op node the term belongs to
    upstream: torch.Tensor | None
    local: torch.Tensor | None   # the local derivative as numbers, where it is one per element
    local_text: str              # the local derivative as a formula
    contribution: torch.Tensor | None


@dataclass(frozen=True)
class BackwardStep:
    node: int
    terms: tuple[Term, ...]
    total: torch.Tensor | None   # value nodes: the sum of the terms (its grad); ops: None


def literal(node: ast.AST) -> object:
    """A number or (nested) list literal, already checked by parse_program, as Python data.

    Not `ast.literal_eval`, which refuses the repeated signs parse_program accepts (`[--1]`).
    """
    if isinstance(node, ast.List):
        return [literal(e) for e in node.elts]
    return literal_number(node)


class ExprGraph:
    def __init__(self, program: Program):
        self.program = program
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.output: int = -1
        self.warnings: list[str] = []
        self.passes = 0                          # backward passes accumulated into the grads
        self._result: dict[int, int] = {}        # op node -> its result value node
        self._lines = source_lines(program.text)  # UTF-8 lines: ast's columns count bytes
        self._by_src: dict[int, list[Edge]] | None = None   # edge indexes, built on first use
        self._by_dst: dict[int, list[Edge]] = {}

    @classmethod
    def build(cls, program: str | Program, inputs: Mapping[str, object] | None = None,
              backward: bool = True) -> ExprGraph:
        """Parse, evaluate with autograd and (by default) run one backward pass."""
        if isinstance(program, str):
            program = parse_program(program)
        graph = cls(program)
        graph._evaluate(dict(inputs or {}))
        if backward:
            graph.backward()
        return graph

    # -- evaluation -----------------------------------------------------------------------

    def _evaluate(self, inputs: dict[str, object]) -> None:
        missing = [n for n in self.program.inputs if n not in inputs]
        if missing:
            raise ProgramError(f"no value for input{'s' if len(missing) > 1 else ''} "
                               + ", ".join(missing) + " (set a number or a list for each)")
        self._inputs = inputs
        self._env: dict[str, int] = {}
        self._versions: dict[str, int] = {}
        with torch.enable_grad():
            for st in self.program.statements:
                node = self._eval(st.expr)
                if st.op is not None:
                    target = self._read(st.target, st.expr)
                    node = self._apply(OPS[st.op], [target, node], st.expr, st.source)
                if st.target is not None:
                    self._name(node, st.target)
                self.output = node
        out = self.nodes[self.output]
        if out.tensor.dim() > 0 and out.tensor.numel() > 1:
            self.warnings.append(f"the output has shape {tuple(out.tensor.shape)}, not a single number: "
                                 "backward starts from a grad of ones (the same as backward of sum(output))")

    def _eval(self, expr: ast.expr) -> int:
        if isinstance(expr, ast.Name):
            return self._read(expr.id, expr)
        if isinstance(expr, (ast.Constant, ast.List)) or (
                isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant)):
            return self._value(literal(expr), "constant", expr)
        if isinstance(expr, ast.UnaryOp):
            operand = self._eval(expr.operand)
            if isinstance(expr.op, ast.UAdd):
                return operand
            return self._apply(OPS["neg"], [operand], expr)
        if isinstance(expr, ast.BinOp):
            left, right = self._eval(expr.left), self._eval(expr.right)
            return self._apply(OPS[BINARY[type(expr.op)]], [left, right], expr)
        if isinstance(expr, ast.Call):
            return self._apply(OPS[expr.func.id], [self._eval(expr.args[0])], expr)
        raise ProgramError.at(expr, "unsupported expression")   # parse_program rules this out

    def _read(self, name: str, where: ast.AST) -> int:
        if name not in self._env:
            try:
                value = parse_value(self._inputs[name])
            except ValueError as e:
                raise ProgramError.at(where, f"input {name}: {e}") from None
            node = self._value(value, "input", where, name=name)
            self._versions[name] = 0
            self._env[name] = node
        return self._env[name]

    def _value(self, value, role: str, where: ast.AST, name: str | None = None) -> int:
        try:
            t = value if isinstance(value, torch.Tensor) else parse_value(value)
        except ValueError as e:
            raise ProgramError.at(where, str(e)) from None
        if role == "input":
            t.requires_grad_(True)
        return self._add(Node(len(self.nodes), "value", role=role, name=name, tensor=t,
                              **self._where(where)), where)

    def _apply(self, op: Op, operands: list[int], where: ast.AST, text: str | None = None) -> int:
        tensors = [self.nodes[i].tensor for i in operands]
        try:
            shape = result_shape(op, [tuple(t.shape) for t in tensors])
        except ValueError as e:
            raise ProgramError.at(where, f"{e} in `{self._text(where)}`") from None
        count = 1
        for s in shape:
            count *= s
        if count > MAX_ELEMENTS:
            raise ProgramError.at(where, f"`{self._text(where)}` would have {count:,} numbers "
                                         f"(shape {shape}); the limit is {MAX_ELEMENTS:,}")
        result = op.fn(*tensors)
        if result.requires_grad:
            result.retain_grad()
        if not torch.isfinite(result).all():
            bad = result.detach().reshape(-1)
            first = float(bad[~torch.isfinite(bad)][0])
            self.warnings.append(f"line {where.lineno}, column {where.col_offset + 1}: "
                                 f"`{self._text(where)}` is not finite ({number(first)})")
        place = self._where(where)
        if text is not None:
            place["text"] = text
        op_id = self._add(Node(len(self.nodes), "op", op=op.name, **place), where)
        for arg, src in enumerate(operands):
            self.edges.append(Edge(src, op_id, arg))
        value_id = self._add(Node(len(self.nodes), "value", role="intermediate", tensor=result, **place),
                             where)
        self.edges.append(Edge(op_id, value_id))
        self._result[op_id] = value_id
        return value_id

    def _name(self, node_id: int, name: str) -> None:
        node = self.nodes[node_id]
        if node.name is None:
            node.name = name
            node.version = self._versions[name] = self._versions.get(name, -1) + 1
        elif name not in node.aliases and name != node.name:
            node.aliases.append(name)
            self._versions.setdefault(name, 0)
        self._env[name] = node_id

    def _add(self, node: Node, where: ast.AST) -> int:
        if len(self.nodes) >= MAX_NODES:
            raise ProgramError.at(where, f"the program makes more than {MAX_NODES:,} graph nodes; "
                                         "the explorer draws at most that many — use a smaller program")
        self.nodes.append(node)
        return node.id

    def _where(self, node: ast.AST) -> dict:
        return {"text": self._text(node), "line": node.lineno, "column": node.col_offset + 1}

    def _text(self, node: ast.AST) -> str:
        return " ".join(segment(self._lines, node).split()) or ast.unparse(node)

    # -- gradients ------------------------------------------------------------------------

    def backward(self) -> None:
        """One more backward pass; grads add up across passes until `zero_grad()`."""
        out = self.nodes[self.output].tensor
        if not out.requires_grad:
            self.warnings.append("the output does not depend on any input, so there are no grads")
            return
        out.backward(torch.ones_like(out), retain_graph=True)
        self.passes += 1
        bad = [n.label for n in self.values() if n.tensor.grad is not None
               and not torch.isfinite(n.tensor.grad).all()]
        if bad:
            self.warnings.append("non-finite grad for " + ", ".join(bad))

    def zero_grad(self) -> None:
        """Forget every grad (as torch's `zero_grad(set_to_none=True)` does)."""
        for n in self.values():
            n.tensor.grad = None
        self.passes = 0

    # -- reading the graph ----------------------------------------------------------------

    def values(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "value"]

    def value(self, node_id: int) -> torch.Tensor | None:
        t = self.nodes[node_id].tensor
        return None if t is None else t.detach().clone()

    def grad(self, node_id: int) -> torch.Tensor | None:
        t = self.nodes[node_id].tensor
        return None if t is None or t.grad is None else t.grad.detach().clone()

    def result_of(self, op_id: int) -> int:
        return self._result[op_id]

    def operands(self, op_id: int) -> list[Edge]:
        return sorted(self._index()[1].get(op_id, []), key=lambda e: e.arg)

    def consumers(self, value_id: int) -> list[Edge]:
        return list(self._index()[0].get(value_id, []))

    def _index(self) -> tuple[dict[int, list[Edge]], dict[int, list[Edge]]]:
        """Edges by source and by destination, built once (the graph is fixed once built)."""
        if self._by_src is None or self._indexed != len(self.edges):
            self._by_src, self._by_dst = {}, {}
            for e in self.edges:
                self._by_src.setdefault(e.src, []).append(e)
                self._by_dst.setdefault(e.dst, []).append(e)
            self._indexed = len(self.edges)
        return self._by_src, self._by_dst

    @property
    def forward_order(self) -> list[int]:
        """Every node in the order it was computed (a topological order)."""
        return [n.id for n in self.nodes]

    @property
    def backward_order(self) -> list[int]:
        """The nodes the backward pass visits, each after every node that uses it."""
        needed = set()
        for node_id in reversed(self.forward_order):
            if node_id == self.output or any(e.dst in needed for e in self.consumers(node_id)):
                node = self.nodes[node_id]
                if node.kind == "op" or node.tensor.requires_grad:
                    needed.add(node_id)
        return [i for i in reversed(self.forward_order) if i in needed]

    def backward_step(self, node_id: int) -> BackwardStep:
        """The chain-rule arithmetic at one node, with the grads as they are now."""
        node = self.nodes[node_id]
        if node.kind == "op":
            terms = tuple(self._terms(node_id))
            return BackwardStep(node_id, terms, None)
        if node_id == self.output:
            return BackwardStep(node_id, (), self.grad(node_id))
        terms = tuple(t for e in self.consumers(node_id) for t in self._terms(e.dst) if t.edge == e)
        contributions = [t.contribution for t in terms if t.contribution is not None]
        total = sum(contributions[1:], contributions[0].clone()) if contributions else None
        return BackwardStep(node_id, terms, total)

    def _terms(self, op_id: int) -> list[Term]:
        """Replay one op on detached copies of its operands to get each operand's share."""
        op = OPS[self.nodes[op_id].op]
        edges = self.operands(op_id)
        result = self.nodes[self._result[op_id]].tensor
        upstream = None if result.grad is None else result.grad.detach()
        sources = [self.nodes[e.src].tensor for e in edges]
        leaves = [t.detach().clone().requires_grad_(t.requires_grad) for t in sources]
        wanted = [i for i, leaf in enumerate(leaves) if leaf.requires_grad]
        if not wanted:
            return []
        with torch.enable_grad():
            out = op.fn(*leaves)
            sends = [None] * len(leaves)
            if upstream is not None:
                for i, g in zip(wanted, torch.autograd.grad(out, [leaves[i] for i in wanted], upstream,
                                                            retain_graph=True)):
                    sends[i] = g
            local = [None] * len(leaves)
            pointwise = out.numel() == 1 or op.elementwise
            if pointwise:
                for i, g in zip(wanted, torch.autograd.grad(out, [leaves[i] for i in wanted],
                                                            torch.ones_like(out))):
                    if out.numel() == 1 or leaves[i].shape == out.shape:
                        local[i] = g
        return [Term(edges[i], op_id, upstream, local[i], op.local[i], sends[i]) for i in wanted]

    # -- export ---------------------------------------------------------------------------

    def to_json(self) -> dict:
        """`{"output": NAME, "nodes": [...], "edges": [[from, to], ...]}` plus the orders."""
        out = self.nodes[self.output]
        return {
            "output": self.program.output or out.name,   # `r = a` names the output r, not a
            "output_id": self.output,
            "nodes": [{
                "id": n.id, "kind": n.kind, "name": n.name, "op": n.op,
                "shape": list(n.shape) if n.shape is not None else None,
                "value": plain(n.tensor), "grad": plain(None if n.tensor is None else n.tensor.grad),
                "role": n.role, "label": n.label, "line": n.line, "column": n.column,
            } for n in self.nodes],
            "edges": [[e.src, e.dst] for e in self.edges],
            "forward_order": self.forward_order,
            "backward_order": self.backward_order,
            "warnings": list(self.warnings),
        }
