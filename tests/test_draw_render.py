"""Rendering drawings: SVG and PNG through graphviz-pure, saving, Jupyter display, and the renderer
lookup (environment variable, next to the interpreter, PATH, a system dot, none at all)."""

import os
import stat
import sys
import sysconfig
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, draw_dot
from autograd.views import render as render_module
from autograd.views.render import ENV_VAR, RendererNotFoundError, find_renderer, render

REAL_PYTHON = sys.executable
SAFE_TAGS = {"svg", "g", "title", "polygon", "path", "text", "ellipse", "polyline"}
SVG = "{http://www.w3.org/2000/svg}"


def have_renderer():
    try:
        find_renderer()
    except RendererNotFoundError:
        return False
    return True


needs_renderer = pytest.mark.skipif(not have_renderer(), reason='no renderer: pip install "chainrule[viz]"')


def small():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = (a * b).tanh()
    y.label = "y"
    return y


def svg_text(svg):
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(SVG + "text")], root


@needs_renderer
def test_svg_renders_every_label_and_number():
    y = small()
    y.backward()
    texts, root = svg_text(draw_dot(y).svg())
    assert root.tag == SVG + "svg"
    for needed in ("a", "b", "y", "*", "tanh", "data 2.0000", f"grad {y._prev[0]._prev[0].grad:.4f}"):
        assert needed in texts
    groups = [g for g in root.iter(SVG + "g") if g.get("class") == "node"]
    assert len(groups) == 6  # a, b, *, a*b, tanh, y
    background = next(root.iter(SVG + "polygon"))
    assert background.get("fill") == "#ffffff"  # not transparent: dark themes keep dark text readable


@needs_renderer
def test_png_is_a_png():
    data = draw_dot(small()).png()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 500


@needs_renderer
def test_nasty_labels_stay_text_in_the_svg():
    label = '<script>alert("x")</script> & \\N {a|b}\nsecond line <i>'
    x = Value(1.0, label=label)
    texts, root = svg_text(draw_dot(x.exp()).svg())
    tags = {el.tag.replace(SVG, "") for el in root.iter()}
    assert tags <= SAFE_TAGS, tags
    assert '<script>alert("x")</script> & \\N {a|b}' in texts
    assert "second line <i>" in texts


@needs_renderer
def test_save_picks_the_format_from_the_suffix(tmp_path):
    g = draw_dot(small())
    svg = g.save(tmp_path / "g.svg")
    png = g.save(str(tmp_path / "g.PNG"))
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="PDF is not supported"):
        g.save(tmp_path / "g.pdf")
    with pytest.raises(ValueError, match="'svg' or 'png'"):
        g.save(tmp_path / "g.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.PNG", "g.svg"]
    # any other name gets the DOT source, as graphviz's save() does
    assert g.save(tmp_path / "g") == str(tmp_path / "g") and (tmp_path / "g").read_text() == g.source
    assert g.save("g.gv", directory=tmp_path) == str(tmp_path / "g.gv")


@needs_renderer
def test_jupyter_display_gives_the_svg():
    g = draw_dot(small())
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"] == g._repr_svg_() == g.svg()
    assert "<svg" in bundle["image/svg+xml"]
    assert str(g) == g.source and "6 nodes" in repr(g)


@needs_renderer
def test_render_is_usable_on_any_dot():
    out = render('digraph { "x" -> "y" }', "svg").decode()
    texts, _ = svg_text(out)
    assert texts == ["x", "y"]
    assert render(b'digraph { "x" -> "y" }', "svg").decode() == out
    with pytest.raises(ValueError, match="PDF"):
        render("digraph {}", "pdf")
    with pytest.raises(TypeError, match="DOT text"):
        render(None)


@needs_renderer
def test_rendering_is_deterministic():
    assert draw_dot(small()).svg() == draw_dot(small()).svg()


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Point every place the lookup searches at an empty directory."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    real_get_path = sysconfig.get_path
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(empty) if name == "scripts" else real_get_path(name, *a, **k))
    return empty


def fake_renderer(directory, name, body):
    path = directory / name
    path.write_text(f"#!{REAL_PYTHON}\nimport sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_without_a_renderer_source_works_and_showing_or_saving_says_what_to_install(nowhere, tmp_path):
    g = draw_dot(small())
    assert g.source.startswith("digraph")
    for show in (g.svg, g.png, g._repr_svg_, g._repr_mimebundle_, lambda: g.save(tmp_path / "out.svg")):
        with pytest.raises(RendererNotFoundError, match=r'pip install "chainrule\[viz\]"'):
            show()
    assert not (tmp_path / "out.svg").exists()


def test_the_environment_variable_comes_first(nowhere, monkeypatch):
    fake = fake_renderer(nowhere, "my-dot", "sys.stdin.read(); sys.stdout.write('<svg>fake</svg>')")
    monkeypatch.setenv(ENV_VAR, str(fake))
    assert find_renderer() == str(fake)
    assert draw_dot(small()).svg() == "<svg>fake</svg>"
    monkeypatch.setenv(ENV_VAR, str(nowhere / "missing"))
    with pytest.raises(RendererNotFoundError, match=ENV_VAR):
        find_renderer()


def test_graphviz_pure_next_to_the_interpreter_is_found_without_path(nowhere, tmp_path, monkeypatch):
    venv_bin = tmp_path / "venv-bin"
    venv_bin.mkdir()
    fake = fake_renderer(venv_bin, "graphviz-pure", "pass")
    fake_renderer(nowhere, "dot", "pass")  # a system dot on PATH loses to graphviz-pure
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert find_renderer() == str(fake)


def test_a_system_dot_on_path_is_used_when_graphviz_pure_is_missing(nowhere):
    fake = fake_renderer(nowhere, "dot", "pass")
    assert find_renderer() == str(fake)


def test_a_failing_renderer_reports_its_message(nowhere, monkeypatch):
    fake = fake_renderer(nowhere, "dot", "sys.stderr.write('Error: syntax error in line 1'); sys.exit(1)")
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        render("digraph {")
    assert fake.exists()


@needs_renderer
def test_the_real_renderer_is_found_next_to_this_interpreter_with_an_empty_path(monkeypatch, tmp_path):
    here = os.path.dirname(os.path.abspath(sys.executable))
    if not os.path.exists(os.path.join(here, "graphviz-pure")):
        pytest.skip("graphviz-pure is not installed next to this interpreter")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert os.path.dirname(render_module.find_renderer()) == here
    assert draw_dot(small()).svg().count("<svg") == 1


@needs_renderer
@settings(max_examples=40)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_any_label_renders_to_valid_svg_showing_it(label):
    x = Value(1.0, label=label)
    texts, root = svg_text(draw_dot(x, fields=("label",)).svg())
    assert not [el for el in root.iter() if el.tag.replace(SVG, "") not in SAFE_TAGS]
    shown = "\n".join(texts)
    visible = "".join(
        repr(ch)[1:-1] if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 or ord(ch) in (0xFFFE, 0xFFFF) else ch
        for ch in label.replace("\r\n", "\n")
    )
    assert shown.split() == visible.split()  # the same words: Graphviz may trim spaces at line ends
