"""Reading a small program safely: Python's `ast`, a whitelist, and limits.

A program is statements separated by newlines or `;`:

    a = x * x        # assignment
    a += y           # augmented assignment (+= -= *= /=)
    a / 2            # a bare expression, allowed only as the last statement

Expressions use `+ - * / ** @`, unary minus and plus, numbers, (nested) lists of numbers and
the functions in `FUNCTIONS`. Nothing is ever `eval`ed: the text is parsed with `ast.parse`
(after a length check, since the parser itself can run out of stack or memory), every node is
checked against the whitelist, and anything else is refused with the line and column where it
starts. Inputs are the names read before (or without) being assigned.
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass, field

FUNCTIONS = ("exp", "log", "tanh", "relu", "sigmoid", "sin", "cos", "sqrt", "abs", "sum", "mean")
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}

FLOAT_OPS = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__,
             ast.Div: float.__truediv__, ast.Pow: float.__pow__}

MAX_CHARS = 20_000
MAX_DEPTH = 100          # nesting of one expression
MAX_AST_NODES = 5_000
MAX_EXPONENT = 100       # |literal exponent| in `a ** literal`
MAX_LITERAL = 1e30       # |number literal|
MAX_LIST_ELEMENTS = 10_000

WHAT = {
    ast.Attribute: "attribute access (`.`)", ast.Subscript: "indexing (`[...]` after a value)",
    ast.Lambda: "lambda", ast.Import: "import", ast.ImportFrom: "import",
    ast.Compare: "comparisons", ast.BoolOp: "`and`/`or`", ast.IfExp: "`if` expressions",
    ast.JoinedStr: "f-strings", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.ListComp: "comprehensions", ast.GeneratorExp: "generators", ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.Starred: "`*` unpacking", ast.NamedExpr: "`:=`",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.FunctionDef: "def",
    ast.ClassDef: "class", ast.If: "if", ast.For: "for", ast.While: "while", ast.With: "with",
    ast.Return: "return", ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Raise: "raise", ast.Try: "try", ast.Assert: "assert", ast.Pass: "pass",
    ast.AnnAssign: "annotations",
}


class ProgramError(ValueError):
    """A program that cannot be read or run, with the 1-based line and column to point at."""

    def __init__(self, message: str, line: int = 1, column: int = 1,
                 end_line: int | None = None, end_column: int | None = None):
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line, self.column = line, column
        self.end_line = end_line if end_line is not None else line
        self.end_column = end_column if end_column is not None else column + 1

    @classmethod
    def at(cls, node: ast.AST, message: str) -> ProgramError:
        return cls(message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1,
                   getattr(node, "end_lineno", None),
                   (node.end_col_offset + 1) if getattr(node, "end_col_offset", None) is not None else None)


@dataclass(frozen=True)
class Statement:
    target: str | None      # None for a bare final expression
    op: str | None          # "+", "-", "*", "/" for augmented assignment, else None
    expr: ast.expr          # validated: only whitelisted nodes
    source: str             # the statement's text


@dataclass(frozen=True)
class Program:
    text: str
    statements: tuple[Statement, ...]
    inputs: tuple[str, ...]                 # in order of first use
    output: str | None = field(default=None)  # the last target; None for a bare final expression


def parse_program(text: str) -> Program:
    if len(text) > MAX_CHARS:
        raise ProgramError(f"the program is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    if not text.strip():
        raise ProgramError("the program is empty: type an expression such as `x*x + y`")
    try:
        with warnings.catch_warnings():   # e.g. "invalid decimal literal" for `1x`: the error says it
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="exec")
    except SyntaxError as e:
        raise ProgramError(e.msg or "invalid syntax", e.lineno or 1, e.offset or 1) from None
    except (RecursionError, MemoryError):
        raise ProgramError(f"the program is nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ValueError as e:   # e.g. NUL bytes
        raise ProgramError(str(e)) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_AST_NODES:
        raise ProgramError(f"the program has {count:,} syntax nodes; the limit is {MAX_AST_NODES:,}")

    statements, assigned, inputs, lines = [], set(), [], source_lines(text)
    body = tree.body
    if not body:   # only comments
        raise ProgramError("the program is empty: type an expression such as `x*x + y`")
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise ProgramError.at(stmt, "assign to one plain name, e.g. `a = x * 2`")
            target, op, expr = stmt.targets[0], None, stmt.value
        elif isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.target, ast.Name):
                raise ProgramError.at(stmt, "assign to one plain name, e.g. `a += 1`")
            if type(stmt.op) not in AUGMENTED:
                raise ProgramError.at(stmt, "only +=, -=, *= and /= are supported")
            target, op, expr = stmt.target, AUGMENTED[type(stmt.op)], stmt.value
        elif isinstance(stmt, ast.Expr):
            if i != len(body) - 1:
                raise ProgramError.at(stmt, "a bare expression must be the last statement; "
                                            "assign it to a name, e.g. `a = ...`")
            target, op, expr = None, None, stmt.value
        else:
            raise ProgramError.at(stmt, f"{WHAT.get(type(stmt), type(stmt).__name__)} cannot be used here")
        check_expression(expr)
        for name in ([target.id] if op else []) + reads(expr):
            if name not in assigned and name not in inputs:
                inputs.append(name)
        if target is not None:
            check_name(target)
            assigned.add(target.id)
        statements.append(Statement(target.id if target is not None else None, op, expr,
                                    segment(lines, stmt)))
    output = statements[-1].target
    return Program(text, tuple(statements), tuple(inputs), output)


def source_lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.splitlines(keepends=True)]


def segment(lines: list[bytes], node: ast.AST) -> str:
    """The source of `node`, as ast.get_source_segment gives it but without splitting the whole
    program again on every call (ast's column offsets count UTF-8 bytes, hence bytes)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        piece = lines[first][node.col_offset:node.end_col_offset]
    else:
        piece = b"".join([lines[first][node.col_offset:], *lines[first + 1:last],
                          lines[last][:node.end_col_offset]])
    return piece.decode(errors="replace")


def reads(expr: ast.expr) -> list[str]:
    """Names an expression reads, in source order (functions excluded)."""
    functions = {id(n.func) for n in ast.walk(expr) if isinstance(n, ast.Call)}
    names = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in functions]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    return [n.id for n in names]


def check_name(node: ast.Name) -> None:
    if node.id in FUNCTIONS:
        raise ProgramError.at(node, f"`{node.id}` is a function; call it as `{node.id}(...)` "
                                    "and use another name for values")
    if node.id.startswith("__"):
        raise ProgramError.at(node, f"names starting with `__` are not allowed (`{node.id}`)")


def check_expression(root: ast.expr) -> None:
    """Walk without recursion, so depth is ours to limit rather than Python's."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProgramError.at(node, f"the expression is nested too deeply (limit {MAX_DEPTH} levels)")
        children = check_node(node)
        stack.extend((child, depth + 1) for child in children)


def check_node(node: ast.AST) -> list[ast.AST]:
    """Refuse anything outside the language; return the children to check."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY:
            symbol = ast.unparse(node.op).strip() or type(node.op).__name__
            raise ProgramError.at(node, f"the operator `{symbol}` is not supported; use + - * / ** @")
        if isinstance(node.op, ast.Pow):
            exponent = constant_value(node.right)
            if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
                raise ProgramError.at(node.right, "the exponent is not a real number" if math.isnan(exponent)
                                      else f"the exponent {exponent:g} is too large (limit ±{MAX_EXPONENT})")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ProgramError.at(node, "only unary minus and plus are supported")
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ProgramError.at(node.func, "only the built-in functions can be called: "
                                             + ", ".join(FUNCTIONS))
        if node.func.id not in FUNCTIONS:
            raise ProgramError.at(node.func, f"unknown function `{node.func.id}`; "
                                             "available: " + ", ".join(FUNCTIONS))
        if node.keywords or len(node.args) != 1:
            raise ProgramError.at(node, f"`{node.func.id}` takes exactly one argument")
        return [node.args[0]]
    if isinstance(node, ast.Name):
        check_name(node)
        return []
    if isinstance(node, ast.Constant):
        literal_number(node)
        return []
    if isinstance(node, ast.List):
        check_list(node)
        return []
    raise ProgramError.at(node, f"{WHAT.get(type(node), type(node).__name__)} cannot be used here")


def literal_number(node: ast.AST) -> float | None:
    """The value of a numeric literal (with any unary signs), None if `node` is not one."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign *= -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if not isinstance(node, ast.Constant):
        return None
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {str: "strings", bytes: "bytes", complex: "complex numbers"}.get(type(value), repr(value))
        raise ProgramError.at(node, f"{kind} are not supported; use numbers" if kind.endswith("s")
                              else f"`{kind}` is not a number")
    if isinstance(value, int) and abs(value) > MAX_LITERAL or not math.isfinite(float(value)) \
            or abs(float(value)) > MAX_LITERAL:
        raise ProgramError.at(node, f"the number is too large (limit ±{MAX_LITERAL:g})")
    return sign * float(value)


def constant_value(node: ast.AST, depth: int = 1) -> float | None:
    """The value of an expression made only of number literals, None if it reads a name.

    Worked out with Python floats, where an overflow is caught rather than computed (so
    `9**9**9` is recognised as huge without building a 370-million-digit integer).
    Recursive, so it refuses nesting beyond MAX_DEPTH itself (Python's stack is not ours).
    """
    if depth > MAX_DEPTH:
        raise ProgramError.at(node, f"the expression is nested too deeply (limit {MAX_DEPTH} levels)")
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY and not isinstance(node.op, ast.MatMult):
        a, b = constant_value(node.left, depth + 1), constant_value(node.right, depth + 1)
        if a is None or b is None:
            return None
        try:
            result = FLOAT_OPS[type(node.op)](a, b)
        except (OverflowError, ZeroDivisionError):
            return math.inf
        return result if isinstance(result, float) else math.nan   # (-1) ** 0.5 is complex
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = constant_value(node.operand, depth + 1)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant):
        return literal_number(node)
    return None


def check_list(node: ast.List) -> None:
    """A rectangular (nested) list of numeric literals."""
    shape = list_shape(node)
    count = math.prod(shape)
    if count > MAX_LIST_ELEMENTS:
        raise ProgramError.at(node, f"the list has {count:,} numbers; the limit is {MAX_LIST_ELEMENTS:,}")


def list_shape(node: ast.AST) -> tuple[int, ...]:
    if not isinstance(node, ast.List):
        if literal_number(node) is None:
            raise ProgramError.at(node, "list elements must be numbers or lists of numbers")
        return ()
    if not node.elts:
        raise ProgramError.at(node, "empty lists are not supported")
    shapes = [list_shape(e) for e in node.elts]
    if any(s != shapes[0] for s in shapes):
        raise ProgramError.at(node, "the list is ragged: every row must have the same length")
    return (len(node.elts), *shapes[0])
