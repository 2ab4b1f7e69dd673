"""Turning DOT text into pictures: the renderer lookup every drawing goes through.

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
    if not isinstance(fmt, str):
        raise TypeError(f"the picture's format is 'svg' or 'png', got {type(fmt).__name__}: {str(fmt)[:40]}")
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        extra = (" (PDF is not supported: graphviz-pure renders SVG and PNG; save an SVG and convert it, or "
                 f"with a system Graphviz set {ENV_VAR}=dot and call drawing.render(name, format='pdf'))")
        raise ValueError(
            f"cannot save {fmt!r}: choose 'svg' or 'png'" + (extra if fmt in ("pdf", "ps", "eps") else "")
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
    return run([f"-T{fmt}"], data)


def run(flags, data):
    """Run the renderer with ``flags`` (``-T``, ``-K``... as for ``dot``) on DOT ``data`` (bytes);
    returns what it writes. Every rendering goes through here, graphviz's own ``render()`` and
    ``pipe()`` on a drawing included. Warnings on success are dropped; an error says what failed."""
    exe = find_renderer()
    try:
        done = subprocess.run([exe, *map(str, flags)], input=data, capture_output=True, check=False)
    except OSError as error:
        raise RendererNotFoundError(f"could not run the renderer {exe!r} ({error}); {_INSTALL_HINT}") from None
    message = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or not done.stdout:
        fmt = next((f[2:] for f in map(str, flags) if f.startswith("-T")), "?")
        hint = ""
        if fmt.split(":")[0].lower() in ("pdf", "ps", "eps") and "graphviz-pure" in os.path.basename(exe):
            hint = f" (graphviz-pure makes SVG and PNG, not {fmt.upper()}: install Graphviz and set {ENV_VAR}=dot)"
        raise RuntimeError(
            f"the renderer {exe!r} failed to make {fmt.upper()}: {message or f'exit status {done.returncode}'}{hint}"
        )
    return done.stdout
