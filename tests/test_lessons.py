"""The course as a whole: every notebook is listed, every lesson ends with further reading, and the
saved figures read at 100% zoom (not wider than a notebook column, no tiny fonts)."""

import base64
import os
import re
import struct
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
MAX_WIDTH = 1200  # pixels: 12 inches at matplotlib's 100 dpi, shown at 80% or more in a laptop's notebook column
TINY = {"xx-small", "x-small"}  # and any size below 8 points


def _read(path):
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(path, as_version=4)


def test_the_readme_links_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text()
    missing = [p.name for p in ALL if f"]({p.name})" not in readme]
    assert not missing, f"notebooks/README.md does not link {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_ends_with_further_reading(path):
    nb = _read(path)
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("## ")]
    assert headings and headings[-1] == "## Further reading", f"{path.name}: the last section is {headings[-1:]}"
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "## Further reading" in last.source, f"{path.name}: the last cell is not the further reading"
    assert last.source.split("## Further reading")[-1].count("](http") >= 2, f"{path.name}: further reading with fewer than two links"
    summary = [i for i, c in enumerate(nb.cells) if "## What to remember" in c.source]
    assert all(c.cell_type == "markdown" for c in nb.cells[summary[-1]:]) if summary else True, (
        f"{path.name}: code after 'What to remember': the summary must close the lesson"
    )


def _png_width(output):
    png = output.get("data", {}).get("image/png")
    if not png:
        return None
    shown = output.get("metadata", {}).get("image/png", {}).get("width")  # a HiDPI image shown smaller
    if shown:
        return int(shown)
    raw = base64.b64decode(png)
    return struct.unpack(">I", raw[16:20])[0]  # the IHDR chunk: width, then height


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_saved_figures_fit_a_notebook_column(path):
    nb = _read(path)
    wide = [(i, w) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for w in map(_png_width, c.outputs) if w and w > MAX_WIDTH]
    assert not wide, f"{path.name}: figures wider than {MAX_WIDTH} px (cell, width): {wide}; use a figsize of at most 12 inches (10 for most)"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_no_font_smaller_than_small(path):
    nb = _read(path)
    sizes = [s.strip("\"'") for c in nb.cells if c.cell_type == "code" for s in re.findall(r"\b(?:fontsize|labelsize|size)=([\"'][\w-]+[\"']|\d+(?:\.\d+)?)", c.source)]
    tiny = [s for s in sizes if s in TINY or (s.replace(".", "").isdigit() and float(s) < 8)]
    assert not tiny, f"{path.name}: font sizes {tiny}; the smallest that reads at 100% zoom is 'small' (8 points)"


def test_lesson_12_without_torch_says_what_to_install(tmp_path):
    """CI has PyTorch, so its absence is staged: with `import torch` failing, lesson 12 still runs to the
    end, and every cell that needs PyTorch says what to install instead of failing."""
    nbclient = pytest.importorskip("nbclient")
    (tmp_path / "sitecustomize.py").write_text("import sys\n\nsys.modules['torch'] = None  # import fails, find_spec finds nothing\n")
    nb = _read(NOTEBOOKS / "12_to_pytorch.ipynb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)

    def said(cell):
        return "".join(o.get("text", "") for o in cell.outputs)

    needing = [c for c in nb.cells if c.cell_type == "code" and "HAVE_TORCH" in c.source]
    assert len(needing) >= 5 and "PyTorch is not installed" in said(needing[0])
    silent = [c.source.splitlines()[0] for c in needing if "pip install torch" not in said(c)]
    assert not silent, f"cells that need PyTorch and do not say what to install: {silent}"


def test_the_readme_lists_every_exercise():
    readme = (NOTEBOOKS / "README.md").read_text()
    missing = []
    for path in LESSONS:
        nb = _read(path)
        titles = [t for c in nb.cells if c.cell_type == "markdown" for t in re.findall(r"^#+ Exercise \d+: (.*)$", c.source, re.M)]
        kinds = [c.metadata["exercise"].get("code", False) for c in nb.cells if "exercise" in c.metadata]
        if len(titles) != len(kinds):
            continue  # a lesson whose exercises have no numbered headings is listed by hand
        missing += [f"{path.stem}: {t}" for t, code in zip(titles, kinds) if (f"**{t}**" if code else t) not in readme]
    assert not missing, f"notebooks/README.md does not list these exercises (code ones in bold): {missing}"
