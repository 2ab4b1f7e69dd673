"""write_atomic, and every file the views write through it: a failed save leaves the old file as it
was (a full disk, text that cannot be encoded, Ctrl-C), names the user's path and says what to do."""

import errno
import os
import re
import stat
import subprocess
import sys

import pytest

from autograd import Value, backward_steps, draw_dot, forward_steps, save_steps
from autograd.files import write_atomic
from test_draw_render import needs_renderer


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


def small():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b + a
    y.label = "y"
    return y


# ---- write_atomic itself ----------------------------------------------------------------------------
def test_write_atomic_writes_text_or_bytes_whole_and_replaces_the_old_file(tmp_path):
    path = tmp_path / "notes.txt"
    write_atomic(path, "héllo\n")
    assert path.read_bytes() == "héllo\n".encode("utf-8")
    write_atomic(str(path), b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    write_atomic(os.fsencode(path), bytearray(b"third"))
    assert path.read_bytes() == b"third"
    write_atomic(path, "latin-1: é", encoding="latin-1")
    assert path.read_bytes() == b"latin-1: \xe9"
    assert files_in(tmp_path) == ["notes.txt"]


def test_write_atomic_keeps_permissions_follows_links_and_takes_the_longest_names(tmp_path):
    path = tmp_path / "private.txt"
    path.write_text("old")
    os.chmod(path, 0o600)
    write_atomic(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    link = tmp_path / "link.txt"
    link.symlink_to(path)
    write_atomic(link, "through the link")
    assert link.is_symlink() and path.read_text() == "through the link"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match=f"cannot save the page to {loop}: the symbolic link goes round in a loop"):
        write_atomic(loop, "x", "the page")
    longest = tmp_path / ("n" * 255)
    write_atomic(longest, "255 characters")
    assert longest.read_text() == "255 characters"


def test_write_atomic_refuses_what_is_not_a_path_or_data_naming_it(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save the page: the path must be a file name \(str or Path\), got int"):
        write_atomic(5, "x", "the page")
    with pytest.raises(FileNotFoundError, match="cannot save the page: the path is empty; give a file name"):
        write_atomic("", "x", "the page")
    with pytest.raises(TypeError, match=f"cannot save the page to {tmp_path / 'p'}: the data must be str or bytes, got list"):
        write_atomic(tmp_path / "p", ["x"], "the page")
    with pytest.raises(IsADirectoryError, match=f"cannot save the page to {tmp_path}: {tmp_path} is a folder; add a file name, e.g. "):
        write_atomic(tmp_path, "x", "the page", example="page.html")
    assert files_in(tmp_path) == []


def test_text_that_cannot_be_encoded_is_refused_before_any_file_is_touched(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("old")
    with pytest.raises(ValueError, match=r"cannot save the page to .*page.html: its text holds '\\ud800' \(at character 3\), "
                                         "which utf-8 cannot write; nothing was written"):
        write_atomic(path, "abc\ud800def", "the page")
    assert path.read_text() == "old" and files_in(tmp_path) == ["page.html"]


@pytest.mark.parametrize("where, code, message", [
    ("fsync", errno.ENOSPC, "the disk is full; free some space and save again"),
    ("fsync", errno.EDQUOT, "the disk quota is used up"),
    ("replace", errno.EROFS, "is on a read-only file system; choose another folder"),
])
def test_an_os_error_names_the_users_path_and_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch, where,
                                                                                        code, message):
    path = tmp_path / "g.svg"
    path.write_text("old")

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), ".g.svg.1234.tmp")

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(OSError, match=message) as caught:
        write_atomic(path, "new " * 1000, "the drawing")
    monkeypatch.undo()
    assert caught.value.errno == code
    assert str(caught.value).startswith(f"[Errno {code}] cannot save the drawing to {path}: ") and ".tmp" not in str(caught.value)
    assert path.read_text() == "old" and files_in(tmp_path) == ["g.svg"]


def test_ctrl_c_at_any_line_of_write_atomic_leaves_the_old_file_or_the_new_one_whole(tmp_path):
    from interrupts import AUTOGRAD, interrupt_everywhere

    path = tmp_path / "page.html"

    def setup():
        path.write_text("old")

    def check(_, interrupted):
        assert files_in(tmp_path) == ["page.html"]  # no temporary file left behind
        assert path.read_text() == "new" or (interrupted and path.read_text() == "old")

    lines = interrupt_everywhere(setup, lambda _: write_atomic(path, "new"), check, folders=(AUTOGRAD,))
    assert lines > 20


# ---- every file the views write ---------------------------------------------------------------------
@needs_renderer
def test_a_view_that_hits_a_real_file_size_limit_leaves_the_old_files(tmp_path):
    # a real failing write, halfway through a file: the child may write only 512 bytes per file, and
    # every file a view writes is larger
    for file in ("g.svg", "g.gv", "r", "s.html"):
        (tmp_path / file).write_text("old")
    script = (
        "import resource, signal, sys\n"
        "from autograd import Value, draw_dot, save_steps\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))\n"
        f"folder = {str(tmp_path)!r}\n"
        "a, b = Value(2.0, label='a'), Value(-3.0, label='b')\n"
        "y = a * b + a\n"
        "d = draw_dot(y)\n"
        "for save in (lambda: d.save(folder + '/g.svg'), lambda: d.save(folder + '/g.gv'), "
        "lambda: d.render(folder + '/r', format='svg'), lambda: save_steps(y, folder + '/s.html')):\n"
        "    try:\n"
        "        save()\n"
        "    except OSError as error:\n"
        "        print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout
    for line, what, file in zip(lines, ("the drawing", "the DOT source", "the DOT source", "the steps page"),
                                ("g.svg", "g.gv", "r", "s.html")):
        assert f"cannot save {what} to {tmp_path / file}: the file would be larger than this process may write" in line
    for file in ("g.svg", "g.gv", "r", "s.html"):
        assert (tmp_path / file).read_text() == "old", file
    assert files_in(tmp_path) == ["g.gv", "g.svg", "r", "s.html"]


@needs_renderer
def test_a_label_that_is_not_valid_unicode_is_shown_escaped_in_every_file(tmp_path, capsys):
    a = Value(2.0, label="a\ud800\n<b>")
    y = a * 3.0
    print(backward_steps(y))  # a terminal cannot print a lone surrogate or a table broken by a newline
    assert "a\\ud800\\n<b>.grad += 3.0" in capsys.readouterr().out
    page = save_steps(y, tmp_path / "s.html", title="steps of \udc00").read_text(encoding="utf-8")
    assert "a\\ud800\\n&lt;b&gt;.grad += 3.0" in page and "<title>steps of \\udc00</title>" in page
    drawing = draw_dot(y)
    drawing.save(tmp_path / "g.gv")
    drawing.save(tmp_path / "g.svg")
    assert "\\\\ud800" in (tmp_path / "g.gv").read_text(encoding="utf-8")
    assert "\\ud800" in (tmp_path / "g.svg").read_text(encoding="utf-8")
    from learners import ClosureValue  # a learner's op name can hold anything too

    x = ClosureValue(1.0, label="x")
    t = x.tanh()
    t._op = "t\nh\ud800"
    assert "= t\\nh\\ud800(x)" in str(backward_steps(t)) and "= t\\nh\\ud800(1.0)" in str(forward_steps(t))
    assert save_steps(t, tmp_path / "t.html").exists()


def test_dot_text_that_cannot_be_encoded_is_refused_and_the_old_file_kept(tmp_path):
    drawing = draw_dot(small())
    drawing.node("extra", label="\udc00")  # graphviz's own API puts the text in as it is
    path = tmp_path / "g.gv"
    path.write_text("old")
    with pytest.raises(ValueError, match=f"cannot save the DOT source to {path}: its text holds '\\\\udc00'"):
        drawing.save(path)
    assert path.read_text() == "old" and files_in(tmp_path) == ["g.gv"]


def test_drawing_save_of_the_dot_source_keeps_graphvizs_file_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawing = draw_dot(small())
    assert drawing.save() == "chainrule.gv" and (tmp_path / "chainrule.gv").read_text() == drawing.source
    assert drawing.save("g.gv", directory="sub/folder") == os.path.join("sub/folder", "g.gv")  # folders made, as graphviz does
    assert (tmp_path / "sub" / "folder" / "g.gv").read_text() == drawing.source
    (tmp_path / "kept.gv").write_text("old")
    assert drawing.save("kept.gv", directory=".", skip_existing=True) == os.path.join(".", "kept.gv")
    assert (tmp_path / "kept.gv").read_text() == "old"


def test_a_file_name_that_is_not_a_path_is_named_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawing = draw_dot(small())
    for call, message in [
        (lambda: drawing.save(123), "filename=123: give a file name (str or Path), such as 'graph.svg'"),
        (lambda: drawing.render(123), "filename=123: give a file name"),
        (lambda: drawing.save("g.svg", directory=5), "directory=5: give a folder name (str or Path)"),
        (lambda: save_steps(small(), 123), "save_steps(path=123): give a file name (str or Path)"),
    ]:
        with pytest.raises(TypeError, match=re.escape(message)):
            call()
    assert files_in(tmp_path) == []
    assert drawing.save(b"bytes.gv") == "bytes.gv" and (tmp_path / "bytes.gv").read_text() == drawing.source
