"""`gptviz graph`: the autograd graph of a program on the command line."""

import json
import os
import subprocess
import sys

import pytest

from gptviz.cli import main


def graph_json(capsys, *args):
    assert main(["graph", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def by_name(doc):
    return {n["name"]: n for n in doc["nodes"] if n["name"]}


def test_the_seed_case_as_json(capsys):
    doc = graph_json(capsys, "r = x*x + y", "--set", "x=1", "--set", "y=0")
    assert doc["output"] == "r"
    names = by_name(doc)
    assert (names["r"]["value"], names["x"]["grad"], names["y"]["grad"]) == (1.0, 2.0, 1.0)
    ops = [n for n in doc["nodes"] if n["kind"] == "op"]
    assert sorted(n["op"] for n in ops) == ["*", "+"]
    assert all(n["value"] is None and n["grad"] is None for n in ops)
    ids = {n["id"] for n in doc["nodes"]}
    assert all(len(e) == 2 and set(e) <= ids for e in doc["edges"])
    x, mul = names["x"]["id"], ops[0]["id"] if ops[0]["op"] == "*" else ops[1]["id"]
    assert doc["edges"].count([x, mul]) == 2            # x feeds x*x twice
    assert set(doc["nodes"][0]) >= {"id", "kind", "name", "op", "shape", "value", "grad"}


def test_at_x_zero_the_grad_of_x_is_zero_and_y_stays_one(capsys):
    names = by_name(graph_json(capsys, "r = x*x + y", "--set", "x=0", "--set", "y=5"))
    assert (names["x"]["grad"], names["y"]["grad"], names["r"]["value"]) == (0.0, 1.0, 5.0)


def test_list_inputs_and_tensor_grads(capsys):
    doc = graph_json(capsys, "s = sum(W @ v)", "--set", "W=[[1, 2], [3, 4]]", "--set", "v=[1, -1]")
    names = by_name(doc)
    assert names["W"]["shape"] == [2, 2] and names["v"]["grad"] == [4.0, 6.0]
    assert names["W"]["grad"] == [[1.0, -1.0], [1.0, -1.0]]


def test_non_finite_values_stay_valid_json_with_a_warning(capsys):
    assert main(["graph", "r = log(x)", "--set", "x=0", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert by_name(doc)["r"]["value"] == "-Infinity"
    assert "gptviz: warning: line 1, column 5: `log(x)` is not finite (-inf)" in captured.err
    assert any("not finite" in w for w in doc["warnings"])


def test_a_bad_program_exits_nonzero_with_the_position(capsys):
    assert main(["graph", "r = x\ns = r.__class__", "--set", "x=1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gptviz: line 2, column 5: attribute access")
    assert "  s = r.__class__\n      ^" in err


def test_a_missing_or_unknown_input_is_named(capsys):
    assert main(["graph", "x*y", "--set", "x=1"]) == 2
    assert "--set y=VALUE" in capsys.readouterr().err
    assert main(["graph", "x*x", "--set", "x=1", "--set", "z=2"]) == 2
    assert "z" in capsys.readouterr().err


def test_the_table_shows_values_and_grads(capsys):
    assert main(["graph", "r = x*x + y", "--set", "x=3", "--set", "y=0"]) == 0
    out = capsys.readouterr().out
    (x_row,) = [line for line in out.splitlines() if line.startswith("x ")]
    assert x_row.split()[-2:] == ["3", "6"]


@pytest.mark.timeout(120)
def test_png_and_svg_from_the_console_script(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    r = subprocess.run([sys.executable, "-m", "gptviz", "graph", "r = tanh(x*x + y)", "--set", "x=1",
                        "--set", "y=0", "--png", png, "--svg", svg], capture_output=True, text=True,
                       env=env, timeout=100)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 1000
    assert "<svg" in svg.read_text() and ">tanh<" in svg.read_text()


def test_the_program_can_come_from_standard_input(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("a = x * 3\nb = a + x\n"))
    doc = graph_json(capsys, "-", "--set", "x=2")
    assert doc["output"] == "b" and by_name(doc)["x"]["grad"] == 4.0
