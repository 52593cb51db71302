"""The autograd explorer's engine: a small program, run through torch autograd, as a graph."""

from .graph import MAX_NODES, BackwardStep, Edge, ExprGraph, Node, Term
from .program import ProgramError, parse_program
from .values import parse_value

__all__ = ["MAX_NODES", "BackwardStep", "Edge", "ExprGraph", "Node", "ProgramError", "Term",
           "parse_program", "parse_value"]
