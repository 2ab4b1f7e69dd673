"""draw_dot returns a graphviz.Digraph: what lecture and graphviz users call works, and every
rendering path (graphviz's own render, pipe and view included) goes through chainrule's renderer."""

import os
import stat
import sys

import pytest

graphviz = pytest.importorskip("graphviz", reason='drawing needs the graphviz package: pip install "chainrule[viz]"')

from autograd import draw_dot  # noqa: E402
from autograd.views.render import ENV_VAR, RendererNotFoundError, find_renderer  # noqa: E402
from examples import lecture_expression  # noqa: E402
from test_draw_render import needs_renderer  # noqa: E402


def lecture():
    return lecture_expression()["L"]


def test_a_drawing_is_a_digraph_with_the_graph_in_its_body():
    g = draw_dot(lecture())
    assert isinstance(g, graphviz.Digraph)
    assert g.source == "".join(g) and str(g) == g.source
    assert g.source.startswith("digraph chainrule {") and g.source.endswith("}\n")
    assert g.format == "svg" and g.graph_attr["rankdir"] == "LR"
    assert sum(line.count(" -> ") for line in g.body) == 9  # 3 ops: 2 inputs + 1 output edge each


def test_format_and_rankdir_by_keyword_and_by_position_as_in_micrograd():
    L = lecture()
    assert draw_dot(L, format="png").format == "png"
    g = draw_dot(L, "png", "TB")
    assert (g.format, g.graph_attr["rankdir"]) == ("png", "TB")
    assert draw_dot(L, format="SVG").format == "svg"
    with pytest.raises(ValueError, match="format"):
        draw_dot(L, format="wav")  # graphviz's own check names the argument
    with pytest.raises(TypeError, match="format="):
        draw_dot(L, format=3)


def test_graphviz_methods_work_on_a_drawing():
    g = draw_dot(lecture())
    g.attr(rankdir="TB")
    assert "rankdir=TB" in g.source
    g.node("note", "added by hand")
    assert '\tnote [label="added by hand"]\n' in g.source
    copy = g.copy()
    assert type(copy) is type(g) and copy.source == g.source and copy.nodes == g.nodes
    assert copy is not g and copy.body is not g.body


@needs_renderer
def test_render_writes_the_dot_file_and_the_picture_like_graphviz(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = draw_dot(lecture())
    out = g.render("gout")  # the lecture's call
    assert out == "gout.svg"
    assert (tmp_path / "gout").read_text() == g.source
    assert (tmp_path / "gout.svg").read_text().lstrip().startswith("<?xml") and "<svg" in (tmp_path / "gout.svg").read_text()
    out = g.render("small", format="png", cleanup=True)
    assert out == "small.png" and (tmp_path / "small.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "small").exists(), "cleanup=True removes the DOT file"
    out = g.render(outfile=tmp_path / "sub.svg")
    assert out == str(tmp_path / "sub.svg") and (tmp_path / "sub.svg").exists()
    out = g.render("named", directory=tmp_path / "folder", format="svg")
    assert out == os.path.join(str(tmp_path / "folder"), "named.svg") and os.path.exists(out)


@needs_renderer
def test_pipe_gives_bytes_or_text_in_any_format_the_renderer_makes():
    g = draw_dot(lecture())
    assert g.pipe()[:5] == b"<?xml"  # format="svg" by default
    assert g.pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert g.pipe(format="jpg")[:2] == b"\xff\xd8"
    text = g.pipe(encoding="utf-8")
    assert isinstance(text, str) and text == g.svg()
    assert g.pipe(format="svg", engine="neato").startswith(b"<?xml")


@needs_renderer
def test_view_renders_and_opens_the_picture(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = []
    g = draw_dot(lecture())
    for platform in ("linux", "darwin", "windows", "freebsd"):
        monkeypatch.setattr(type(g), f"_view_{platform}", staticmethod(lambda path, quiet=False: opened.append(path)),
                            raising=False)
    assert g.view("shown") == "shown.svg"
    assert opened == ["shown.svg"] and (tmp_path / "shown.svg").exists()


@needs_renderer
def test_jupyter_display_is_the_svg_rendered_once():
    g = draw_dot(lecture())
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and bundle["image/svg+xml"] == g.svg() == g._repr_svg_()
    assert g._repr_mimebundle_(include=["image/png"])["image/png"][:4] == b"\x89PNG"
    first = g.svg()
    assert g.svg() is first  # cached
    g.attr(rankdir="TB")
    assert g.svg() != first  # a changed graph is rendered again


def fake_renderer(directory, log):
    """A renderer that records its arguments and writes a tiny SVG, to see who runs it."""
    path = directory / "my-dot"
    path.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "sys.stdin.buffer.read()\nsys.stdout.write('<svg>fake</svg>')\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_every_rendering_path_uses_chainrules_renderer(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    monkeypatch.setenv(ENV_VAR, str(fake_renderer(tmp_path, log)))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # no system dot either
    monkeypatch.chdir(tmp_path)
    g = draw_dot(lecture())
    assert g.svg() == "<svg>fake</svg>"
    assert g.pipe(format="svg") == b"<svg>fake</svg>"
    assert g.pipe(format="png", engine="neato") == b"<svg>fake</svg>"
    assert g.render("out") == "out.svg" and (tmp_path / "out.svg").read_text() == "<svg>fake</svg>"
    assert g._repr_mimebundle_()["image/svg+xml"] == "<svg>fake</svg>"
    assert log.read_text().splitlines() == ["-Tsvg", "-Kdot -Tsvg", "-Kneato -Tpng", "-Kdot -Tsvg"]


def test_without_a_renderer_graphviz_calls_say_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing-renderer"))
    monkeypatch.chdir(tmp_path)
    g = draw_dot(lecture())
    for call in (g.pipe, lambda: g.render("x"), g._repr_mimebundle_):
        with pytest.raises(RendererNotFoundError, match=ENV_VAR):
            call()


@needs_renderer
def test_a_format_the_renderer_cannot_make_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "graphviz-pure" not in os.path.basename(find_renderer()):
        pytest.skip("this checks graphviz-pure's message")
    g = draw_dot(lecture())
    with pytest.raises(RuntimeError, match="failed to make PDF.*not PDF: install Graphviz"):
        g.render("x", format="pdf")
    with pytest.raises(ValueError, match="PDF is not supported"):
        g.save(tmp_path / "x.pdf")


def test_without_the_graphviz_package_drawing_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.delitem(sys.modules, "autograd.views.drawing", raising=False)
    with pytest.raises(ImportError, match=r"chainrule\[viz\]"):
        draw_dot(lecture())
