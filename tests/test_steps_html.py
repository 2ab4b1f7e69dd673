"""save_steps: one self-contained page, checked as text and in a real headless browser."""

import html
import re

import pytest

from autograd.views.steps import backward_steps, forward_steps
from autograd.views.steps_html import frame_svg, save_steps, steps_html
from examples import lecture_expression
from lab import CHROMIUM, CHROMIUM_ARGS  # Debian's chromium and the flags every browser test uses


def classic():
    return lecture_expression()["L"]


def test_page_has_one_frame_per_step_in_order():
    L = classic()
    steps = forward_steps(L) + backward_steps(L)
    page = steps_html(steps, title="L = (a*b + c) * f")
    found = re.findall(r'<figure class="step-frame" id="step-(\d+)" data-step="\d+" data-kind="(\w+)">', page)
    assert [(int(i), kind) for i, kind in found] == [(s.index, s.kind) for s in steps]
    for step, frame in zip(steps, steps.frames()):
        assert f'<pre class="step-text">{html.escape(step.text)}</pre>' in page
        assert frame_svg(steps, frame) in page
    assert "<title>L = (a*b + c) * f</title>" in page
    assert f'max="{len(steps) - 1}"' in page


def test_page_loads_nothing_from_anywhere():
    page = steps_html(classic())
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(link|iframe|img|object|embed)\b", page)
    assert not re.search(r"\ssrc\s*=", page)
    external = [h for h in re.findall(r'href\s*=\s*"([^"]*)"', page) if not h.startswith("#")]
    assert external == []
    assert not re.search(r"(fetch|XMLHttpRequest|import\()", page)


def test_save_steps_writes_the_page(tmp_path):
    L = classic()
    path = save_steps(L, tmp_path / "backprop.html", interval=500)
    assert path == tmp_path / "backprop.html"
    assert path.read_text(encoding="utf-8") == steps_html(L, interval=500)
    with pytest.raises(ValueError, match="interval.*milliseconds"):
        save_steps(L, tmp_path / "x.html", interval=0)
    with pytest.raises(TypeError, match="Value .*or steps"):
        save_steps("L", tmp_path / "x.html")


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(title=123), r"title=123\): the page's title is a str"),
        (dict(title=["x"]), "title="),
        (dict(forward="yes"), "forward='yes'"),
        (dict(grad="1"), r"backward_steps\(grad\): the seed"),
        (dict(digits=0), "digits"),
        (dict(interval=1.5), "interval=1.5"),
        (dict(max_nodes=-1), "max_nodes=-1"),
        (dict(rankdir="XY"), "rankdir="),
        (dict(fmt="%d"), "fmt="),
        (dict(colour="red"), "unexpected keyword argument 'colour'"),
        (dict(grads={}), "sets grads= itself"),
        (dict(highlight=[]), "sets highlight= itself"),
    ],
)
def test_bad_arguments_are_named_before_anything_is_written(options, message, tmp_path):
    with pytest.raises((TypeError, ValueError), match=message):
        save_steps(classic(), tmp_path / "x.html", **options)
    assert not (tmp_path / "x.html").exists()


def test_bad_paths_are_named(tmp_path):
    for path in (None, 3, ["a.html"]):
        with pytest.raises(TypeError, match=r"save_steps\(path=.*a file name"):
            save_steps(classic(), path)


def test_a_graph_too_large_to_step_through_is_refused_early(tmp_path):
    from autograd.views.nodes import GraphTooLargeError
    from test_draw import Trap

    y = Trap(1.0)
    for _ in range(400):
        y = y * 1.0001
    with pytest.raises(GraphTooLargeError, match=r"more than 300 nodes.*max_nodes=None"):
        save_steps(y, tmp_path / "big.html")
    with pytest.raises(GraphTooLargeError, match="more than 50 nodes"):
        save_steps(y, tmp_path / "big.html", max_nodes=50)
    small = classic()
    assert save_steps(small, tmp_path / "ok.html", max_nodes=13).exists()  # 7 values and 3 operations
    with pytest.raises(GraphTooLargeError, match="more than 9 nodes"):
        save_steps(backward_steps(small), tmp_path / "no.html", max_nodes=9)  # recorded steps are checked too
    assert not (tmp_path / "big.html").exists() and not (tmp_path / "no.html").exists()


def test_labels_and_titles_are_escaped_in_the_page(tmp_path):
    from autograd import Value

    x = Value(1.0, label='<img src=x onerror="alert(1)">')
    y = x.exp()
    y.label = "</pre><script>alert(2)</script>"
    page = steps_html(y, title="<b>bold</b> & co")
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert html.escape(y.label) in page


def test_save_steps_leaves_nothing_alive():
    import gc
    import weakref

    from autograd import Value

    gc.collect()
    gc.disable()
    try:
        a = Value(2.0, label="a")
        ref = weakref.ref(a)
        page = steps_html((a * 3.0).tanh(), forward=True)
        del a
        assert ref() is None and page
    finally:
        gc.enable()


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """The exported classic example opened in Debian's chromium, with every request recorded."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("browser")
    L = classic()
    steps = forward_steps(L) + backward_steps(L)
    path = save_steps(steps, tmp / "backprop.html", interval=150)
    requests, problems = [], []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(path.as_uri())
        yield page, steps, path, requests, problems
        context.close()


def shown(page):
    """(step number, explanation text, graph markup) of the one frame the page shows."""
    visible = [f for f in page.locator(".step-frame").all() if f.is_visible()]
    assert len(visible) == 1, "exactly one frame is visible"
    frame = visible[0]
    return (
        int(frame.get_attribute("data-step")),
        frame.locator(".step-text").inner_text(),
        frame.locator(".step-graph").inner_html(),
    )


def test_browser_next_and_arrow_keys_change_frame_and_text(browser_page):
    page, steps, path, requests, problems = browser_page
    first = shown(page)
    assert first[0] == 0 and first[1] == steps[0].text
    assert page.locator("#counter").inner_text() == f"step 0 of {len(steps) - 1}"

    page.click("#next")
    second = shown(page)
    assert second[0] == 1 and second[1] == steps[1].text
    assert second[2] != first[2], "the graph changes with the step"
    assert page.locator("#slider").input_value() == "1"

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert shown(page)[:2] == (4, steps[4].text)
    page.keyboard.press("ArrowLeft")
    assert shown(page)[0] == 3
    page.keyboard.press("End")
    last = shown(page)
    assert last[0] == len(steps) - 1 and last[1] == steps[-1].text
    assert "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0" in last[1]
    page.keyboard.press("ArrowRight")
    assert shown(page)[0] == len(steps) - 1, "stepping past the end stays on the last frame"
    page.click("#prev")
    assert shown(page)[0] == len(steps) - 2

    page.locator("#slider").fill("2")
    assert shown(page)[:2] == (2, steps[2].text)
    page.keyboard.press("ArrowRight")  # the focused slider does not step a second time
    assert shown(page)[0] == 3 and page.locator("#slider").input_value() == "3"


def test_browser_play_runs_to_the_end(browser_page):
    page, steps, *_ = browser_page
    page.keyboard.press("Home")
    assert shown(page)[0] == 0
    from playwright.sync_api import expect

    page.click("#play")
    expect(page.locator("#play")).to_contain_text("pause")
    # the page's policy forbids eval, so wait through locators rather than wait_for_function
    expect(page.locator(".step-frame.current")).to_have_attribute("data-step", str(len(steps) - 1))
    expect(page.locator("#play")).to_contain_text("play")
    assert shown(page)[0] == len(steps) - 1


def test_browser_no_request_leaves_the_page(browser_page):
    page, steps, path, requests, problems = browser_page
    page.keyboard.press("Home")
    page.click("#next")
    assert requests == [path.as_uri()], "the page is the only thing loaded"
    assert problems == []


def test_a_network_exports_with_modules_collapsed():
    from nn import MLP

    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    steps = backward_steps(loss)
    page = steps_html(steps, collapse="Neuron")
    assert page.count('<figure class="step-frame"') == len(steps)
    assert page.count("<svg") == len(steps) and "Neuron 0" in page


def test_browser_space_plays_and_pauses_after_a_button_or_the_slider_was_clicked(browser_page):
    page, steps, *_ = browser_page
    from playwright.sync_api import expect

    for control in ("#next", "#prev", "#slider"):
        page.keyboard.press("Home")
        page.click(control)
        before = shown(page)[0]
        page.keyboard.press(" ")
        expect(page.locator("#play")).to_contain_text("pause")  # Space started playing
        page.keyboard.press(" ")
        expect(page.locator("#play")).to_contain_text("play")  # and paused it again
        assert shown(page)[0] >= before, f"Space after clicking {control} did not press {control} again"
    page.click("#play")  # a click on the play button itself, then Space pauses
    expect(page.locator("#play")).to_contain_text("pause")
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_contain_text("play")
