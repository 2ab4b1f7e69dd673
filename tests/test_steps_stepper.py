"""The ipywidgets stepper, driven without a browser: set widget values, read what it shows."""

import html
import sys

import pytest

pytest.importorskip("ipywidgets", reason='the stepper needs ipywidgets (pip install "chainrule[notebook]")')

from autograd import Value
from examples import lecture_expression
from autograd.views.stepper import Stepper
from autograd.views.steps import backward_steps, forward_steps
from autograd.views.steps_html import frame_svg


def classic():
    v = lecture_expression()
    return v["L"], tuple(v[k] for k in "abcfed")


@pytest.fixture(scope="module")
def stepper():
    L, _ = classic()
    return Stepper(L, forward=True, interval=100)


def test_controls_cover_every_step_and_play_is_linked_to_the_slider(stepper):
    n = len(stepper.steps)
    assert n == len(stepper) == 8
    assert (stepper.slider.min, stepper.slider.max) == (stepper.play.min, stepper.play.max) == (0, n - 1)
    stepper.play.value = 3
    assert stepper.slider.value == 3 and stepper.index == 3
    stepper.slider.value = 5
    assert stepper.play.value == 5


def test_each_step_shows_its_graph_text_and_highlight(stepper):
    steps = stepper.steps
    shown = []
    for i in [0, 4, 6, 7, 1]:
        stepper.slider.value = i
        frame = steps.frame(i)
        assert stepper.step is steps[i]
        assert stepper.highlighted == frame.highlight
        assert stepper.text == steps[i].text
        assert html.escape(steps[i].text) in stepper.explanation.value
        assert f"step {i} of {len(steps) - 1}" in stepper.explanation.value
        expected_svg = frame_svg(steps, frame)
        assert stepper.svg == expected_svg and expected_svg in stepper.graph.value
        shown.append(stepper.graph.value)
    assert len(set(shown)) == len(shown), "every step draws a different picture"


def test_active_node_is_the_processed_one():
    L, (a, b, c, f, e, d) = classic()
    s = Stepper(L)
    assert [s.steps[i].kind for i in range(len(s))] == ["seed", "grad", "grad", "grad"]
    s.go(3)
    assert s.highlighted == (e, a, b)
    assert "a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0" in s.text
    s.go(0)
    assert s.highlighted == (L,)


def test_buttons_step_and_stop_at_the_ends():
    L, _ = classic()
    s = Stepper(L)
    assert s.previous.disabled and not s.next.disabled
    s.next.click()
    s.next.click()
    assert s.index == 2 and s.play.value == 2
    s.previous.click()
    assert s.index == 1
    s.go(100)
    assert s.index == len(s) - 1 and s.next.disabled
    s.next.click()
    assert s.index == len(s) - 1
    s.go(-5)
    assert s.index == 0


def test_takes_recorded_steps_and_displays_as_a_widget():
    L, _ = classic()
    steps = forward_steps(L) + backward_steps(L, grad=2.0)
    s = Stepper(steps)
    assert s.steps is steps
    bundle = s._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == s.widget.model_id
    assert "Stepper at step 0" in repr(s)
    with pytest.raises(TypeError, match="when recording"):
        Stepper(steps, forward=True)


def test_missing_ipywidgets_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"chainrule\[notebook\]"):
        Stepper(Value(1.0))


def test_bad_source_is_named():
    with pytest.raises(TypeError, match="Value .*or steps.*list"):
        Stepper([1.0])


def test_picture_fills_in_as_it_steps():
    """Values, then gradients, replace the not-yet-computed mark one step at a time."""
    from autograd.views.draw import HIGHLIGHT, NOT_YET

    L, _ = classic()
    s = Stepper(L, forward=True)
    missing = []
    for i in range(len(s)):
        s.slider.value = i
        assert HIGHLIGHT in s.svg, "the active node is marked"
        missing.append(s.svg.count(NOT_YET))
    assert missing == sorted(missing, reverse=True) and len(set(missing)) == len(missing)
    assert missing[-1] == 0, "after the last step every value and gradient is shown"


def test_a_leaf_root_is_one_step():
    x = Value(1.0, "x")
    s = Stepper(x)
    assert len(s) == 1 and s.previous.disabled and s.next.disabled
    s.next.click()
    assert s.index == 0 and s.text == "seed x:  x.grad += 1.0  (the seed: dx/dx = 1)  (x.grad: 0.0 → 1.0)"


def test_bad_arguments_are_named_before_recording():
    L, _ = classic()
    with pytest.raises(ValueError, match=r"Stepper\(interval=0\)"):
        Stepper(L, interval=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        Stepper(L, colour="red")
    with pytest.raises(TypeError, match=r"Stepper\(forward=1\)"):
        Stepper(L, forward=1)
    with pytest.raises(ValueError, match=r"Stepper\(interval=2147483648\): .* an int from 1 to 2147483647"):
        Stepper(L, interval=2**31)  # a browser would play it at full speed


@pytest.mark.parametrize("bad", ["x", "3", float("nan"), float("inf"), 2.5, None, True, [1]])
def test_go_takes_a_step_number_and_names_what_it_got(stepper, bad):
    stepper.go(2)
    with pytest.raises(TypeError, match=r"go\(i\) takes a step number \(an int from 0 to 7\), got "):
        stepper.go(bad)
    assert stepper.index == 2  # nothing moved
    stepper.go(10**400)  # a huge int is a step past the end: the last one
    assert stepper.index == 7


def test_a_graph_too_large_is_refused_before_recording():
    from autograd.views.nodes import GraphTooLargeError
    from test_draw import Trap

    y = Trap(1.0)
    for _ in range(400):
        y = y * 1.0001
    with pytest.raises(GraphTooLargeError, match=r"Stepper: .*more than 300 nodes.*max_nodes=None"):
        Stepper(y)


def test_labels_are_escaped_in_the_widgets():
    x = Value(1.0, label="<b>x</b> & <script>alert(1)</script>")
    s = Stepper(x.exp())
    s.go(1)
    shown = s.explanation.value + s.graph.value
    assert "<script>" not in shown and "<b>x</b>" not in shown
    assert html.escape("<b>x</b> &") in s.explanation.value
    s.close()


def test_a_closed_stepper_frees_the_graph_at_once():
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        L, (a, *_) = classic()
        ref = weakref.ref(a)
        s = Stepper(L, forward=True)
        s.next.click()
        s.go(5)
        s.close()
        s.close()  # twice is harmless
        del L, a, _, s
        assert ref() is None
    finally:
        gc.enable()
