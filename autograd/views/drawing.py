"""`Drawing`: what `draw_dot` returns, a `graphviz.Digraph` that renders with chainrule's renderer.

Everything graphviz users call works (``.source``, ``.render(filename, format=..., cleanup=...)``,
``.pipe(format=...)``, ``.view()``, ``.attr(...)``, ``.node(...)``...), and chainrule adds
``.svg()``, ``.png()`` and ``.save(path)``. Every rendering, graphviz's own included, runs the
renderer `autograd.views.render.find_renderer` finds (``$CHAINRULE_DOT``, then graphviz-pure, then
a system ``dot``), so nothing needs a system Graphviz. graphviz-pure makes SVG, PNG, JPEG and the
text formats, but no PDF.

This module needs the ``graphviz`` package (the ``viz`` extra); `draw_dot` imports it when it draws.
"""

import os
from pathlib import Path

import graphviz
from graphviz.backend import dot_command, rendering

from ..files import write_atomic
from .nodes import short
from .render import FORMATS, check_format, find_renderer, render, run

OTHER_PICTURES = ("pdf", "ps", "eps", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp")  # save() refuses


class Drawing(graphviz.Digraph):
    """A drawn graph: a `graphviz.Digraph` with ``.svg()``, ``.png()`` and ``.save(path)`` too.

    In Jupyter it shows itself as SVG, rendered in the kernel, so the picture is stored in the
    notebook and shows wherever the notebook is viewed. ``str(drawing)`` is the DOT text; ``nodes``
    is how many nodes it draws; ``collapsed`` names the modules drawn as boxes (None for none).
    """

    def __init__(self, *args, nodes=0, collapsed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.nodes = nodes
        self.collapsed = collapsed
        self._svg = None  # (source, svg): the last SVG made, for the source it was made from

    def svg(self):
        """The picture as SVG text."""
        source = self.source
        if self._svg is None or self._svg[0] != source:
            self._svg = (source, render(source, "svg").decode("utf-8"))
        return self._svg[1]

    def png(self):
        """The picture as PNG bytes."""
        return render(self.source, "png")

    def save(self, filename=None, directory=None, *, skip_existing=False):
        """Write the picture to ``filename`` ending in ``.svg`` or ``.png`` (the suffix picks the
        format); returns its path. Any other name gets the DOT source, as graphviz's ``save()``
        (which ``render()`` calls): ``save()`` alone writes ``chainrule.gv``.

        Every file is written whole or not at all (`autograd.files.write_atomic`): a failed save
        leaves the old file as it was."""
        for name, value, such in (("filename", filename, "'graph.svg'"), ("directory", directory, "'pictures'")):
            if value is not None and not isinstance(value, (str, bytes, os.PathLike)):
                raise TypeError(f"{name}={short(value)}: give a {'file' if name == 'filename' else 'folder'} name "
                                f"(str or Path), such as {such}")
        filename = None if filename is None else os.fsdecode(filename)
        directory = None if directory is None else os.fsdecode(directory)
        if filename is not None:
            path = Path(filename) if directory is None else Path(directory, filename)
            suffix = path.suffix.lower().lstrip(".")
            if suffix in FORMATS or suffix in OTHER_PICTURES:
                fmt = check_format(suffix)
                picture = self.svg().encode("utf-8") if fmt == "svg" else self.png()  # made before any file is touched
                write_atomic(path, picture, "the drawing", example=f"graph.{fmt}")
                return path
        # graphviz's save(), with the same file names and folders, written whole
        if filename is not None:
            self.filename = os.fspath(filename)
        if directory is not None:
            self.directory = os.fspath(directory)
        filepath = self.filepath
        if skip_existing and os.path.exists(filepath):
            return filepath
        self._mkdirs(filepath)
        write_atomic(filepath, self.source, "the DOT source", example="graph.gv", encoding=self.encoding)
        return filepath

    # ---- Jupyter: graphviz's display, with the SVG made once -----------------------------------------
    def _repr_image_svg_xml(self):
        return self.svg()

    _repr_svg_ = _repr_image_svg_xml

    # ---- graphviz's seams for running dot, pointed at chainrule's renderer -------------------------
    @property
    def _pipe_lines(self):
        return _pipe_lines

    @property
    def _pipe_lines_string(self):
        return _pipe_lines_string

    @property
    def _render(self):
        return _render_file

    def copy(self):
        new = super().copy()
        new.nodes, new.collapsed = self.nodes, self.collapsed
        return new

    def __repr__(self):
        boxed = f", modules boxed by {self.collapsed!r}" if self.collapsed else ""
        return f"<Drawing of {self.nodes} nodes{boxed}: .source for DOT, .svg(), .png(), .save('graph.svg'), .render()>"


def _flags(engine, format, renderer=None, formatter=None, neato_no_op=None):
    # graphviz checks the engine, format, renderer and formatter and writes the flags, as for dot
    return dot_command.command(engine, format, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op)[1:]


# ``quiet`` is accepted and has nothing to do: a renderer's warnings are never passed on
def _pipe_lines(engine, format, input_lines, *, input_encoding, renderer=None, formatter=None, neato_no_op=None,
                quiet=False):
    data = "".join(input_lines).encode(input_encoding)
    return run(_flags(engine, format, renderer, formatter, neato_no_op), data)


def _pipe_lines_string(engine, format, input_lines, *, encoding, renderer=None, formatter=None, neato_no_op=None,
                       quiet=False):
    data = "".join(input_lines).encode(encoding)
    return run(_flags(engine, format, renderer, formatter, neato_no_op), data).decode(encoding)


def _render_file(engine, format, filepath=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
                 outfile=None, raise_if_result_exists=False, overwrite_filepath=False):
    """graphviz's render step (the saved DOT file to a picture file), with graphviz's rules for the
    file names and chainrule's renderer."""
    if outfile is not None:
        outfile = Path(outfile)
        format = rendering.get_format(outfile, format=format)
        filepath = rendering.get_filepath(outfile) if filepath is None else Path(filepath)
        if not overwrite_filepath and outfile.resolve() == filepath.resolve():
            raise ValueError(f"outfile {outfile.name!r} must be different from the DOT file {filepath.name!r}")
    else:
        if filepath is None or format is None:
            raise graphviz.RequiredArgumentError("render() needs a filename or an outfile, and a format")
        filepath = Path(filepath)
        outfile = rendering.get_outfile(filepath, format=format, renderer=renderer, formatter=formatter)
    if raise_if_result_exists and outfile.exists():
        raise graphviz.FileExistsError(f"output file exists: {os.fspath(outfile)!r}")
    picture = run(_flags(engine, format, renderer, formatter, neato_no_op), filepath.read_bytes())
    write_atomic(outfile, picture, "the picture", example=f"graph.{format}")
    return os.fspath(outfile)
