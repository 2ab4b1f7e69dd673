"""Turning DOT text into SVG or PNG, and the object `draw_dot` returns.

The renderer is an executable that reads DOT on stdin, found in this order:

1. ``$CHAINRULE_DOT``: a path or command name, when set (it must exist);
2. ``graphviz-pure`` (installed by ``pip install "chainrule[viz]"``), looked for next to
   ``sys.executable`` and in this environment's scripts directory first (a Jupyter kernel started
   from a virtual environment often lacks its ``bin/`` on ``PATH``), then on ``PATH``;
3. a system Graphviz ``dot`` on ``PATH``.

graphviz-pure comes first because it gives the same SVG on every machine, so saved notebooks diff
cleanly. It renders SVG and PNG (no PDF). Nothing is searched until something is rendered, so the
DOT text of a drawing is always available, with or without a renderer.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ENV_VAR = "CHAINRULE_DOT"
FORMATS = ("svg", "png")
_INSTALL_HINT = (
    'install the viz extra (pip install "chainrule[viz]", which provides the graphviz-pure renderer), '
    f"or install Graphviz so that `dot` is on PATH, or set {ENV_VAR} to a dot-compatible executable"
)


class RendererNotFoundError(RuntimeError):
    """No Graphviz renderer was found: the message says what to install."""


def find_renderer():
    """The path of the executable that renders DOT, or `RendererNotFoundError`."""
    named = os.environ.get(ENV_VAR, "").strip()
    if named:
        found = shutil.which(named)
        if found is None:
            raise RendererNotFoundError(
                f"{ENV_VAR}={named!r} is not an executable; point it at a dot-compatible renderer "
                "(e.g. the graphviz-pure or dot executable) or unset it"
            )
        return found
    here = [os.path.dirname(os.path.abspath(sys.executable))] if sys.executable else []
    here.append(sysconfig.get_path("scripts"))
    for name, dirs in (("graphviz-pure", here), ("graphviz-pure", None), ("dot", None)):
        for d in dirs or [None]:
            if d is not None and not os.path.isdir(d):
                continue
            found = shutil.which(name, path=d)
            if found:
                return found
    raise RendererNotFoundError(f"drawing needs a Graphviz renderer and none was found: {_INSTALL_HINT}")


def check_format(fmt):
    """``fmt`` lower-cased if it is one the renderer can make, else a ValueError that says why."""
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        extra = " (PDF is not supported: graphviz-pure renders SVG and PNG only; save an SVG and convert it)"
        raise ValueError(
            f"cannot render {fmt!r}: choose 'svg' or 'png'" + (extra if fmt in ("pdf", "ps", "eps") else "")
        )
    return fmt


def render(dot_source, fmt="svg"):
    """Render DOT text to ``fmt`` ('svg' or 'png') with the renderer found by `find_renderer`; bytes."""
    fmt = check_format(fmt)
    if isinstance(dot_source, str):
        data = dot_source.encode("utf-8", errors="backslashreplace")
    elif isinstance(dot_source, (bytes, bytearray)):
        data = bytes(dot_source)
    else:
        raise TypeError(f"render() takes DOT text (str or bytes), got {type(dot_source).__name__}")
    exe = find_renderer()
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=data, capture_output=True, check=False)
    except OSError as error:
        raise RendererNotFoundError(f"could not run the renderer {exe!r} ({error}); {_INSTALL_HINT}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise RuntimeError(f"the renderer {exe!r} failed to make {fmt.upper()}: {message}")
    return done.stdout


class Drawing:
    """A drawn graph: ``.source`` (DOT text), ``.svg()``, ``.png()``, ``.save(path)``.

    In Jupyter it shows itself as SVG, rendered in the kernel, so the picture is stored in the
    notebook and shows wherever the notebook is viewed. ``str(drawing)`` is the DOT text.
    """

    def __init__(self, source, nodes=0):
        self._source = source
        self._svg = None
        self.nodes = nodes  # how many nodes the DOT draws

    @property
    def source(self):
        """The DOT text (no renderer needed)."""
        return self._source

    def svg(self):
        """The picture as SVG text."""
        if self._svg is None:
            self._svg = render(self._source, "svg").decode("utf-8")
        return self._svg

    def png(self):
        """The picture as PNG bytes."""
        return render(self._source, "png")

    def save(self, path):
        """Write the picture to ``path``; its suffix (``.svg`` or ``.png``) picks the format."""
        path = Path(path)
        if not path.suffix:
            raise ValueError(f"save({str(path)!r}): end the file name with .svg or .png to pick the format")
        fmt = check_format(path.suffix)
        find_renderer()  # fail before touching the file system
        data = self.svg().encode("utf-8") if fmt == "svg" else self.png()
        path.write_bytes(data)
        return path

    def _repr_svg_(self):
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg()}

    def __str__(self):
        return self._source

    def __repr__(self):
        return f"<Drawing of {self.nodes} nodes: .source for DOT, .svg(), .png(), .save('graph.svg')>"
