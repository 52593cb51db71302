"""The package never runs text or data as code, and writes files only atomically.

Every module under gptviz/ is parsed (not imported) and walked:
- no eval / exec / compile / __import__ / breakpoint, no import_module of a computed
  name (except where listed in ALLOWED with the reason);
- no unpickling: no pickle/_pickle/dill/cloudpickle load, loads or Unpickler, no
  marshal, shelve or joblib; torch.load only with weights_only=True; numpy.load never
  with allow_pickle=True; yaml only with a safe loader;
- no shell: no os.system / popen / exec* / spawn*, no subprocess with shell=True;
- every file write (open for writing, write_text / write_bytes, torch.save, an image's
  save, a pyqtgraph export to a path) is in a function that renames a temporary file
  into place (os.replace), or calls a helper of its module that does, or appends to a
  log (mode "a").
The checker is tested on snippets that break each rule, so it cannot pass vacuously.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gptviz"

ALLOWED: dict[tuple[str, str], str] = {
    # (module path relative to the package, what is flagged): why it is safe
    ("gui/demo_widgets/__init__.py", "import_module of a computed name"):
        "the name comes from the fixed KINDS table; a demo's kind is looked up there first",
}

EXEC_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
PICKLERS = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib"}
UNPICKLING = {"load", "loads", "Unpickler"}
BANNED_MODULES = {"marshal", "shelve"}
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("pty", "spawn")}
IMAGE_FORMATS = {"PNG", "JPG", "JPEG", "BMP", "SVG"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _is_const(node, value) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _write_mode(call: ast.Call, position: int) -> str | None:
    """The call's mode if it is a constant string, else None."""
    mode = _keyword(call, "mode")
    if mode is None and len(call.args) > position:
        mode = call.args[position]
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else None


def forbidden_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in BANNED_MODULES:
                    found.append((node.lineno, f"import {alias.name}"))
        if isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            names = {a.name for a in node.names}
            if root in BANNED_MODULES:
                found.append((node.lineno, f"from {node.module} import"))
            if root in PICKLERS and names & UNPICKLING:
                found.append((node.lineno, f"from {node.module} import {sorted(names & UNPICKLING)}"))
            if root == "torch" and "load" in names:
                found.append((node.lineno, "from torch import load (use torch.load(weights_only=True))"))
            if node.module == "importlib" and "__import__" in names:
                found.append((node.lineno, "from importlib import __import__"))
        if not isinstance(node, ast.Call):
            continue
        func, name = node.func, _dotted(node.func)
        head, _, tail = name.rpartition(".")
        if isinstance(func, ast.Name) and func.id in EXEC_BUILTINS:
            found.append((node.lineno, f"{func.id}()"))
        elif name.split(".")[-1] == "import_module" and not (
                node.args and isinstance(node.args[0], ast.Constant)):
            found.append((node.lineno, "import_module of a computed name"))
        elif head.split(".")[-1] in PICKLERS and tail in UNPICKLING:
            found.append((node.lineno, f"{name}()"))
        elif head in BANNED_MODULES:
            found.append((node.lineno, f"{name}()"))
        elif name == "torch.load" and not _is_const(_keyword(node, "weights_only"), True):
            found.append((node.lineno, "torch.load without weights_only=True"))
        elif name in ("np.load", "numpy.load") and _is_const(_keyword(node, "allow_pickle"), True):
            found.append((node.lineno, "numpy.load with allow_pickle=True"))
        elif name in ("yaml.load", "yaml.unsafe_load", "yaml.full_load") and not (
                name == "yaml.load" and "Safe" in _dotted(_keyword(node, "Loader") or ast.Name(""))):
            found.append((node.lineno, f"{name} without a safe loader"))
        elif (head, tail) in SHELL_CALLS or (head == "os" and tail.startswith(("exec", "spawn"))):
            found.append((node.lineno, f"{name}()"))
        elif head == "subprocess" and not _is_const(_keyword(node, "shell"), False) \
                and _keyword(node, "shell") is not None:
            found.append((node.lineno, f"{name}(shell=...)"))
    return found


def _is_write(call: ast.Call) -> str | None:
    """What kind of file write call is, or None."""
    name = _dotted(call.func)
    last = name.rpartition(".")[2]
    if name in ("open", "io.open"):
        mode = _write_mode(call, 1)
        return f"open(mode={mode!r})" if mode and set(mode) & set("wax+") else None
    if name == "os.fdopen":
        mode = _write_mode(call, 1)
        return f"os.fdopen(mode={mode!r})" if mode and set(mode) & set("wax+") else None
    if last == "open" and isinstance(call.func, ast.Attribute):  # Path.open(mode)
        mode = _write_mode(call, 0)
        return f".open(mode={mode!r})" if mode and set(mode) & set("wax+") else None
    if last in ("write_text", "write_bytes"):
        return f".{last}()"
    if name == "torch.save":
        return "torch.save()"
    if last == "save" and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) \
            and str(call.args[1].value).upper() in IMAGE_FORMATS:
        return f"image .save(..., {call.args[1].value!r})"
    if last == "export" and call.args and not _is_const(_keyword(call, "toBytes"), True):
        receiver = call.func.value
        if _dotted(receiver).lower().endswith("exporter") or (
                isinstance(receiver, ast.Call) and _dotted(receiver.func).endswith("Exporter")):
            return "exporter.export(path)"
    return None


def _calls(fn: ast.AST) -> set[str]:
    return {_dotted(n.func).rpartition(".")[2] for n in ast.walk(fn) if isinstance(n, ast.Call)}


def unsafe_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Writes that are not atomic (temp + os.replace) and not appends to a log."""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    helpers = {f.name for f in functions if "replace" in _calls(f)
               and any(_dotted(c.func) == "os.replace" for c in ast.walk(f) if isinstance(c, ast.Call))}
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (kind := _is_write(node)) is None:
            continue
        if "'a'" in kind or "'ab'" in kind:
            continue  # an append-only log
        enclosing, atomic = node, False
        while enclosing in parents:  # this function or one it is nested in
            enclosing = parents[enclosing]
            if isinstance(enclosing, (ast.FunctionDef, ast.AsyncFunctionDef)):
                called = {_dotted(c.func) for c in ast.walk(enclosing) if isinstance(c, ast.Call)}
                if "os.replace" in called or {c.rpartition(".")[2] for c in called} & helpers:
                    atomic = True
                    break
        if not atomic:
            found.append((node.lineno, kind))
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _without_allowed(module: str, found: list[tuple[int, str]]) -> list[str]:
    return [f"gptviz/{module}:{line}: {what}" for line, what in found
            if (module, what) not in ALLOWED]


def test_the_package_is_scanned():
    names = [m for m, _ in modules()]
    assert len(names) > 50 and "checkpoint.py" in names and "gui/main_window.py" in names


def test_no_code_from_text_or_data_runs():
    problems = [p for module, tree in modules() for p in _without_allowed(module, forbidden_calls(tree))]
    assert problems == []


def test_every_file_write_is_atomic_or_an_append():
    problems = [p for module, tree in modules() for p in _without_allowed(module, unsafe_writes(tree))]
    assert problems == []


def test_every_allowance_is_still_needed():
    found = {(module, what) for module, tree in modules()
             for _, what in forbidden_calls(tree) + unsafe_writes(tree)}
    assert set(ALLOWED) <= found


# -- the checker itself catches what it should ----------------------------------------------

@pytest.mark.parametrize("source", [
    "eval(text)", "exec(code)", "compile(src, 'f', 'exec')", "__import__(name)", "breakpoint()",
    "importlib.import_module(name)", "pickle.load(f)", "pickle.loads(data)", "pickle.Unpickler(f)",
    "_pickle.loads(b)", "dill.loads(b)", "joblib.load(p)", "from pickle import loads",
    "import marshal", "marshal.loads(b)", "import shelve", "torch.load(path)",
    "torch.load(path, weights_only=False)", "from torch import load", "np.load(p, allow_pickle=True)",
    "yaml.load(s)", "yaml.unsafe_load(s)", "os.system('ls')", "os.popen('ls')", "os.execv(p, a)",
    "os.spawnl(0, p)", "subprocess.run(cmd, shell=True)", "subprocess.Popen(cmd, shell=flag)",
])
def test_the_checker_flags(source):
    assert forbidden_calls(ast.parse(source)), source


@pytest.mark.parametrize("source", [
    "model.eval()", "app.exec()", "re.compile(p)", "torch.compile(m)", "pickle.dumps(x)",
    "torch.load(p, map_location='cpu', weights_only=True)", "np.load(p)", "json.loads(s)",
    "import_module('gptviz.gui')", "yaml.load(s, Loader=yaml.SafeLoader)",
    "subprocess.run([sys.executable, '-m', 'gptviz'], shell=False)", "subprocess.run(cmd)",
    "x = pickle.UnpicklingError",
])
def test_the_checker_passes(source):
    assert forbidden_calls(ast.parse(source)) == []


@pytest.mark.parametrize("source", [
    "def f(p):\n    p.write_text('x')",
    "def f(p):\n    with open(p, 'w') as f:\n        f.write('x')",
    "def f(p):\n    with open(p, mode='wb') as f:\n        f.write(b'x')",
    "def f(p):\n    torch.save(obj, p)",
    "def f(p):\n    image.save(str(p), 'PNG')",
    "def f(p):\n    ImageExporter(item).export(str(p))",
    "def f(p):\n    exporter = ImageExporter(item)\n    exporter.export(str(p))",
    "def f(p):\n    with p.open('w') as f:\n        pass",
    "def f(p):\n    os.replace(a, b)\ndef g(p):\n    p.write_bytes(b'')",  # the rename is elsewhere
])
def test_the_write_checker_flags(source):
    assert unsafe_writes(ast.parse(source)), source


@pytest.mark.parametrize("source", [
    "def f(p):\n    tmp = p.with_suffix('.tmp')\n    tmp.write_text('x')\n    os.replace(tmp, p)",
    "def f(p):\n    with open(p, 'a') as f:\n        f.write('x')",
    "def _atomic(p, write):\n    write(t)\n    os.replace(t, p)\n"
    "def f(p):\n    _atomic(p, lambda t: image.save(t, 'PNG'))",
    "def f(p):\n    with open(p) as f:\n        return f.read()",
    "def f(p):\n    return ImageExporter(item).export(toBytes=True)",
    "def f(p):\n    demos.open(name, step)",
    "def f(p):\n    self.export('png')",
])
def test_the_write_checker_passes(source):
    assert unsafe_writes(ast.parse(source)) == []
