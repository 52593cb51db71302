"""Demo files: loading, checking their structure, finding them by name; `gptviz demo`."""

import pytest

from gptviz import cli
from gptviz.demos import DemoError, all_demos, find_demo, load_demo, resolve

GOOD = '''
name = "mini"
title = "Mini"
summary = "two steps"
[[steps]]
title = "One"
text = "Some *Markdown*."
code = "x = torch.tensor(1.0)"
check = "x"
widget = "autograd"
state = { program = "r = x" }
[[steps]]
title = "Two"
text = "More."
widget = "autograd"
'''


def write(tmp_path, text, name="01-mini.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_demo_file_loads_with_its_steps(tmp_path):
    demo = load_demo(write(tmp_path, GOOD))
    assert (demo.name, demo.title, len(demo)) == ("mini", "Mini", 2)
    assert demo.steps[0].state == {"program": "r = x"} and demo.steps[0].check == "x"
    assert demo.steps[1].code == "" and demo.steps[1].check is None


HEAD = "name = 'x'\ntitle = 'X'\n[[steps]]\ntitle = 'a'\ntext = 't'\n"


@pytest.mark.parametrize("text,message", [
    ("name = 'x'\ntitle = 'X'", "missing `steps`"),
    ("title = 'X'\nsteps = []", "missing `name`"),
    ("name = 'x'\ntitle = 'X'\nsteps = []", "non-empty list"),
    (HEAD, "step 1: `widget`"),
    (HEAD + "widget = 'w'\ncolour = 1", "unknown key(s) colour"),
    (HEAD + "widget = 'w'\ncode = 'y=1'\ncheck = 'y[0]'", "`check` must be a dotted name"),
    (HEAD + "widget = 'w'\ncheck = 'y'", "needs `code`"),
    (HEAD + "widget = 'w'\nstate = 3", "`state` must be a table"),
    ("name = = 'x'", "not valid TOML"),
])
def test_malformed_files_name_the_file_and_the_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DemoError) as e:
        load_demo(path)
    assert str(path) in str(e.value) and message in str(e.value)


def test_demos_are_ordered_by_file_and_names_are_unique(tmp_path):
    write(tmp_path, GOOD.replace('"mini"', '"b"'), "02-b.toml")
    write(tmp_path, GOOD.replace('"mini"', '"a"'), "01-a.toml")
    assert [d.name for d in all_demos(tmp_path)] == ["a", "b"]
    assert find_demo("b", tmp_path).path.name == "02-b.toml"
    with pytest.raises(DemoError, match="the demos are: a, b"):
        find_demo("c", tmp_path)
    write(tmp_path, GOOD.replace('"mini"', '"a"'), "03-a.toml")
    with pytest.raises(DemoError, match="two demos are named a"):
        all_demos(tmp_path)


def test_resolve_reads_dotted_names_without_evaluating_anything():
    class Box:
        grad = 2.0
    assert resolve({"x": Box()}, "x.grad") == 2.0
    with pytest.raises(KeyError):
        resolve({}, "__import__")


def test_the_shipped_demos_all_load():
    demos = all_demos()
    assert len(demos) >= 2 and all(len(d) >= 1 for d in demos)


def test_gptviz_demo_list_prints_every_name(capsys):
    assert cli.main(["demo", "--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [d.name for d in all_demos()]


def test_gptviz_demo_opens_the_window_at_that_demo(monkeypatch):
    opened = {}
    monkeypatch.setattr("gptviz.gui.app.run_app", lambda argv, demo=None, step=0: opened.update(
        demo=demo, step=step) or 0)
    assert cli.main(["demo", "backprop", "--step", "2"]) == 0
    assert opened == {"demo": "backprop", "step": 1}


def test_gptviz_demo_refuses_unknown_names_and_steps(capsys):
    assert cli.main(["demo", "nope"]) == 2
    assert "no demo named 'nope'" in capsys.readouterr().err
    assert cli.main(["demo", "autograd", "--step", "99"]) == 2
    assert "has steps 1 to" in capsys.readouterr().err
