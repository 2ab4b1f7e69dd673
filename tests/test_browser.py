"""The stepper and the playground as a learner meets them: the notebooks opened in JupyterLab in
Debian's Chromium (headless, 127.0.0.1 only), read before they run, run, and used with the mouse."""

import json
import shutil
import time
from pathlib import Path

import pytest

import lab

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WHY = lab.missing()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests need JupyterLab in Chromium: {WHY}")

# a graph much wider than the notebook column: 40 inputs summed into one node, drawn left to right
WIDE_STEPPER = """from autograd import Stepper, Value
xs = [Value(float(i), f'x{i}') for i in range(40)]
wide = Stepper(sum(xs[1:], xs[0]), rankdir='TB')
wide"""


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    import nbformat

    folder = tmp_path_factory.mktemp("lab")
    for name in ("stepper.ipynb", "10_playground.ipynb"):
        shutil.copy(NOTEBOOKS / name, folder / name)
    nb = nbformat.read(folder / "stepper.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WIDE_STEPPER))
    nbformat.write(nb, folder / "stepper.ipynb")
    # lesson 10 up to its playground and snapshot: the experiments after them are static figures,
    # run by the notebook suite, and would only make this test slower
    nb = nbformat.read(folder / "10_playground.ipynb", as_version=4)
    cut = next(i for i, cell in enumerate(nb.cells) if "snapshot()" in cell.source) + 1
    nb.cells = nb.cells[:cut]
    nbformat.write(nb, folder / "10_playground.ipynb")
    with lab.lab(folder) as (base, token), lab.browser(width=1024, height=900) as page:
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "chainrule" in m.text.lower() else None)
        yield page, base, token, problems


def output_texts(page):
    return page.locator(".jp-OutputArea-output").all_inner_texts()


def widget_errors(page):
    return [t for t in output_texts(page) if "Error displaying widget" in t or "Error rendering" in t]


def test_the_stepper_notebook_reads_before_it_runs_and_its_graph_alone_scales(jupyter):
    page, base, token, problems = jupyter
    page.goto(f"{base}/lab/tree/stepper.ipynb?reset&token={token}")
    page.locator(".jp-OutputArea-output").first.wait_for()
    before = "\n".join(output_texts(page))
    assert "VBox(children=" not in before, "an unrun widget cell shows raw widget text"
    lab.open_notebook(page, base, token, "stepper.ipynb")
    lab.wait_idle(page)
    steppers = page.locator(".jp-OutputArea-output .widget-vbox:has(.chainrule-graph)")
    steppers.last.wait_for()
    assert steppers.count() == 3 and widget_errors(page) == []
    # the first stepper (left on its last step by the notebook): previous moves back one step, and
    # the explanation follows
    first = steppers.first
    header = first.locator(".widget-html b").filter(has_text="of").first
    shown, last = (int(n) for n in header.inner_text().removeprefix("step ").split(" of "))
    assert shown == last
    first.get_by_role("button", name="previous").click()
    from playwright.sync_api import expect

    expect(header).to_have_text(f"step {last - 1} of {last}")
    # the wide one: the graph is scaled into the column; the buttons and the text stay in view
    wide = steppers.last
    wide.scroll_into_view_if_needed()
    area = wide.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')]").first
    box, graph = area.bounding_box(), wide.locator(".chainrule-graph").bounding_box()
    assert graph["x"] + graph["width"] <= box["x"] + box["width"] + 1
    overflow = area.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 1, "the output scrolls sideways as a whole"
    svg = wide.locator(".chainrule-graph svg").bounding_box()
    assert svg["width"] <= graph["width"] + 1
    nxt = wide.get_by_role("button", name="next").bounding_box()
    assert box["x"] <= nxt["x"] and nxt["x"] + nxt["width"] <= box["x"] + box["width"]
    assert problems == []


def board(page):
    return page.locator(".chainrule-board").first


def state(page):
    return board(page).evaluate("b => ({step: Number(b.dataset.step), draws: Number(b.dataset.draws),"
                                " points: Number(b.dataset.points), bounds: JSON.parse(b.dataset.bounds)})")


def pixel(page, x, y):
    """The boundary canvas's colour at CSS pixel (x, y) of the canvas."""
    return board(page).locator("canvas.chainrule-boundary").evaluate(
        "(c, [x, y]) => { const r = c.width / c.getBoundingClientRect().width;"
        " return [...c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data]; }", [x, y])


def canvas_at(page, bounds, x, y):
    """CSS pixel of data point (x, y) on the boundary canvas (its plot area: see front/board.js)."""
    rect = {"x": 52, "y": 26, "w": 276, "h": 258}
    (x0, x1), (y0, y1) = bounds
    return rect["x"] + (x - x0) / (x1 - x0) * rect["w"], rect["y"] + rect["h"] - (y - y0) / (y1 - y0) * rect["h"]


def test_the_playground_trains_shows_one_step_pauses_and_takes_clicks(jupyter):
    page, base, token, problems = jupyter
    page.goto(f"{base}/lab/tree/10_playground.ipynb?reset&token={token}")
    page.locator(".jp-OutputArea-output").first.wait_for()
    assert "VBox(children=" not in "\n".join(output_texts(page)), "an unrun widget cell shows raw widget text"
    lab.open_notebook(page, base, token, "10_playground.ipynb")
    lab.wait_idle(page)
    board(page).wait_for()
    board(page).scroll_into_view_if_needed()
    assert widget_errors(page) == []
    # nothing of the playground is cut off at 1024 px: the pictures wrap inside the column
    area = board(page).locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')]").first
    box = area.bounding_box()
    for canvas in board(page).locator("canvas").all():
        c = canvas.bounding_box()
        assert c["x"] >= box["x"] - 1 and c["x"] + c["width"] <= box["x"] + box["width"] + 1
    assert area.evaluate("e => e.scrollWidth - e.clientWidth") <= 1

    # one step shows at once
    start = state(page)
    page.get_by_role("button", name="one step").click()
    page.wait_for_function("s => Number(document.querySelector('.chainrule-board').dataset.step) === s", arg=start["step"] + 1)
    assert state(page)["draws"] > start["draws"]

    # Play trains and the pictures follow; Pause stops both
    picture = board(page).locator("canvas.chainrule-boundary").evaluate("c => c.toDataURL()")
    page.locator("button[title='train until paused']").click()
    time.sleep(2.0)
    playing = state(page)
    assert playing["step"] > start["step"] + 20 and playing["draws"] > start["draws"] + 5
    assert board(page).locator("canvas.chainrule-boundary").evaluate("c => c.toDataURL()") != picture
    page.locator("button[title='train until paused']").click()
    time.sleep(0.5)
    paused = state(page)["step"]
    time.sleep(0.7)
    assert state(page)["step"] == paused, "training went on after Pause"

    # the learner's own points: an explicit switch, then each click adds a point where it lands
    page.locator(".widget-dropdown", has_text="dataset").locator("select").select_option("own")
    page.wait_for_function("() => document.querySelector('.chainrule-board').dataset.points === '0'")
    bounds = state(page)["bounds"]
    for (x, y, cls, colour) in ((0.5, -0.5, 0, (232, 134, 42)), (-0.75, 0.8, 1, (42, 111, 219)), (1.2, 1.1, 1, (42, 111, 219))):
        field = page.locator(".widget-inline-hbox", has_text="click adds class").locator("input")
        field.fill(str(cls))
        field.press("Enter")
        px, py = canvas_at(page, bounds, x, y)
        count = state(page)["points"]
        board(page).locator("canvas.chainrule-boundary").click(position={"x": px, "y": py})
        page.wait_for_function("n => Number(document.querySelector('.chainrule-board').dataset.points) === n", arg=count + 1)
        page.wait_for_timeout(200)
        assert state(page)["bounds"] == bounds, "the picture's window moved when a point was added"
        r, g, b, _ = pixel(page, px, py)
        assert max(abs(r - colour[0]), abs(g - colour[1]), abs(b - colour[2])) < 40, f"no class-{cls} dot where the click landed"
    assert problems == []
