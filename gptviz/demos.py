"""Step-through demos: data files under `resources/demos/`, one TOML file per demo.

A demo is a title and a list of steps. Each step has Markdown text, the equivalent PyTorch
code, and a widget (by kind) with the state it starts in:

    name = "tensors"                 # what `gptviz demo NAME` takes
    title = "Tensors"
    summary = "One line for the list of demos."

    [[steps]]
    title = "A scalar"
    text = "Markdown shown beside the widget."
    code = "x = torch.tensor(1.0)"   # real code: the tests run it (with torch imported)
    check = "x"                      # what the widget must show: a dotted name in the code's
                                     # variables ("x", "x.grad"), or a table of them by key
    widget = "tensor"                # a kind the window knows (gui/demo_widgets)
    state = { text = "1.0" }         # the widget's initial state

Demos are ordered by file name (`01-tensors.toml`, ...). Loading checks the structure and says
which file and which step is wrong; it never runs the code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMOS_DIR = RESOURCES / "demos"


class DemoError(ValueError):
    """A demo file that is missing or malformed; the message names the file and the step."""


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    code: str
    widget: str
    state: dict = field(default_factory=dict)
    check: str | dict[str, str] | None = None


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    path: Path

    def __len__(self) -> int:
        return len(self.steps)


def load_demo(path: str | Path) -> Demo:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DemoError(f"{path}: cannot read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise DemoError(f"{path}: not valid TOML: {e}") from None
    for key in ("name", "title", "steps"):
        if key not in data:
            raise DemoError(f"{path}: missing `{key}`")
    if not isinstance(data["steps"], list) or not data["steps"]:
        raise DemoError(f"{path}: `steps` must be a non-empty list of [[steps]] tables")
    steps = []
    for i, raw in enumerate(data["steps"], 1):
        where = f"{path}, step {i}"
        if not isinstance(raw, dict):
            raise DemoError(f"{where}: a step must be a table")
        unknown = set(raw) - {"title", "text", "code", "widget", "state", "check"}
        if unknown:
            raise DemoError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("title", "text", "widget"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise DemoError(f"{where}: `{key}` must be a non-empty string")
        if not isinstance(raw.get("state", {}), dict):
            raise DemoError(f"{where}: `state` must be a table")
        check = raw.get("check")
        paths = [] if check is None else [check] if isinstance(check, str) else \
            list(check.values()) if isinstance(check, dict) else [None]
        if any(not isinstance(p, str) or not all(part.isidentifier() for part in p.split("."))
               for p in paths):
            raise DemoError(f"{where}: `check` must be a dotted name such as \"x.grad\" or a table of them")
        if paths and not raw.get("code", "").strip():
            raise DemoError(f"{where}: `check` needs `code` to check against")
        steps.append(Step(raw["title"], raw["text"].strip(), raw.get("code", "").strip(), raw["widget"],
                          dict(raw.get("state", {})), raw.get("check")))
    return Demo(str(data["name"]), str(data["title"]), str(data.get("summary", "")), tuple(steps), path)


def demo_paths(folder: Path = DEMOS_DIR) -> list[Path]:
    return sorted(folder.glob("*.toml"))


def all_demos(folder: Path = DEMOS_DIR) -> list[Demo]:
    demos = [load_demo(p) for p in demo_paths(folder)]
    names = [d.name for d in demos]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DemoError(f"{folder}: two demos are named {', '.join(duplicates)}")
    return demos


def find_demo(name: str, folder: Path = DEMOS_DIR) -> Demo:
    demos = all_demos(folder)
    for demo in demos:
        if demo.name == name:
            return demo
    raise DemoError(f"no demo named {name!r}; the demos are: " + ", ".join(d.name for d in demos))


def resolve(variables: dict, path: str) -> object:
    """The value of a dotted name ("x.grad") among the variables some code left behind."""
    first, *rest = path.split(".")
    value = variables[first]
    for attribute in rest:
        value = getattr(value, attribute)
    return value
