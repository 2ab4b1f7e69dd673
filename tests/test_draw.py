"""draw_dot's DOT text: structure, labels, kinds, grads not yet computed, highlight, escaping,
determinism and the size guard. No renderer is needed for any of these."""

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Constant, Parameter, Value, draw_dot, zero_grad
from autograd.views.draw import HIGHLIGHT, KINDS, MAX_NODES, NOT_YET, GraphTooLargeError, text

NODE = re.compile(r"^\t(\w+) \[label=<(.*)>(.*)\]$")
EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$")


def parse(source):
    """{name: (label, attrs)} and [(tail, head, attrs)] from the DOT draw_dot writes."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = NODE.match(line)
        if m:
            assert m.group(1) not in nodes, f"node {m.group(1)} written twice"
            nodes[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
    return nodes, edges


def cells(label):
    """The text of each table cell, unescaped as Graphviz reads it."""
    found = re.findall(r"<TD[^>]*>(.*?)</TD>", label)
    out = []
    for cell in found:
        cell = re.sub(r"</?(B|I|FONT)( [^>]*)?>", "", cell).replace("<BR/>", "\n")
        out.append(html.unescape(cell).replace("\\\\", "\\"))
    return out


def classic():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return L, dict(a=a, b=b, c=c, e=e, d=d, f=f, L=L)


def by_label(nodes):
    out = {}
    for name, (label, _) in nodes.items():
        if not name.startswith("v") or name.endswith("op"):
            continue
        found = cells(label)
        out[found[0]] = (name, found)
    return out


def test_every_value_and_operation_is_one_node_and_edges_follow_the_graph():
    L, v = classic()
    nodes, edges = parse(draw_dot(L).source)
    values = [n for n in nodes if re.fullmatch(r"v\d+", n)]
    ops = [n for n in nodes if n.endswith("op")]
    assert len(values) == 7 and len(ops) == 3
    named = by_label(nodes)
    assert set(named) == set(v)
    for key in ("e", "d", "L"):
        node = v[key]
        name = named[key][0]
        assert html.unescape(nodes[name + "op"][0]) == node._op
        parents = [t for t, h, _ in edges if h == name + "op"]
        assert parents == [named[p.label][0] for p in node._prev]
        assert (name + "op", name, "") in edges
    assert len(edges) == sum(len(x._prev) + 1 for x in v.values() if x._prev)


def test_a_value_used_twice_in_one_operation_has_two_edges():
    a = Value(3.0, label="a")
    y = a * a
    nodes, edges = parse(draw_dot(y).source)
    assert [(t, h) for t, h, _ in edges if h.endswith("op")] == [("v0", "v1op"), ("v0", "v1op")]


def test_unlabelled_values_are_named_by_position_like_the_step_through():
    from autograd import topological_order
    from autograd.views.steps import backward_steps

    x = Value(1.5, label="x")
    y = (x * 2.0 + x.exp()).tanh()
    order = topological_order(y)
    steps = backward_steps(y)
    nodes = parse(draw_dot(y).source)[0]
    for i, node in enumerate(order):
        if isinstance(node, Constant):
            assert cells(nodes[f"v{i}"][0])[0].startswith("data ")
        else:
            assert cells(nodes[f"v{i}"][0])[0] == steps.name(node) == (node.label or f"v{i}")


def test_value_boxes_show_label_data_and_grad_in_the_requested_format():
    L, v = classic()
    L.backward()
    named = by_label(parse(draw_dot(L).source)[0])
    for key, node in v.items():
        assert named[key][1] == [key, f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
    named = by_label(parse(draw_dot(L, fields=("label", "grad"), fmt=".2e").source)[0])
    assert named["a"][1] == ["a", f"grad {v['a'].grad:.2e}"]
    nodes = parse(draw_dot(L, fields=("grad", "data")).source)[0]
    assert cells(nodes["v0"][0]) == [f"grad {v['a'].grad:.4f}", f"data {v['a'].data:.4f}"]


@pytest.mark.parametrize(
    "option, message",
    [
        (dict(fields=("label", "value")), "fields="),
        (dict(fields=()), "fields="),
        (dict(fmt=".4x"), "fmt="),
        (dict(rankdir="XY"), "rankdir="),
        (dict(max_nodes=0), "max_nodes="),
        (dict(collapse=""), "collapse="),
        (dict(collapse=True), "collapse="),
        (dict(grads=[1, 2]), "grads= takes a dict {node: number}, got a list"),
        (dict(values="abc"), "values= takes a dict {node: number}, got a str"),
        (dict(max_nodes="10"), "max_nodes="),
        (dict(legend="yes"), "legend='yes'"),
        (dict(format=3), "format=3"),
        (dict(rankdir=None), "rankdir=None"),
        (dict(highlight=3), "highlight= takes a Value or a list"),
        (dict(highlight="a"), "highlight= takes a Value or a list of them, got a str"),
        (dict(fields=None), "fields=None: give one or more of ('label', 'data', 'grad'), such as fields=('label', 'grad')"),
        (dict(fields=3), "fields=3: give one or more of"),
        (dict(fields=b"data"), "fields=b'data': give one or more of"),
        (dict(fields=[1, 2]), "fields=(1, 2): give one or more of"),
        (dict(format=10**400), "format=100000000000000000000000000000000000000000000000000000000..."),
        (dict(collapse=10**400), "collapse=100000000000000000000000000000000000000000000000000000000..."),
    ],
)
def test_bad_options_are_refused_with_the_option_named(option, message):
    L, _ = classic()
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        draw_dot(L, **option)


def test_numbers_that_are_not_numbers_are_refused_with_the_node_named():
    L, v = classic()
    with pytest.raises(TypeError, match=re.escape("grads= maps nodes to numbers, but grads['b'] is a str: 'text'")):
        draw_dot(L, grads={v["b"]: "text"})
    with pytest.raises(TypeError, match=re.escape("values['a'] is a bool")):
        draw_dot(L, values={v["a"]: True})
    with pytest.raises(OverflowError, match=re.escape("grads= maps nodes to numbers, but grads['a'] is an int of 401 "
                                                      "digits, too large to show as a float")):
        draw_dot(L, grads={v["a"]: 10**400})
    with pytest.raises(OverflowError, match=re.escape("values['b'] is an int of 401 digits")):
        draw_dot(L, values={v["b"]: -(10**400)})
    with pytest.raises(TypeError, match=re.escape("grads= maps nodes (Values) to numbers, but one key is a str: 'a'; "
                                                  "use the Value itself, not its label")):
        draw_dot(L, grads={"a": 1.0})
    assert "grad 1e+300" in draw_dot(L, grads={v["a"]: 10**300}, fmt=".0e").source  # a big int that is a float
    shown = by_label(parse(draw_dot(L, grads={v["a"]: None, v["b"]: Value(2.5)}).source)[0])
    assert shown["a"][1][2] == f"grad {NOT_YET}" and shown["b"][1][2] == "grad 2.5000"  # None: not computed


def test_root_must_be_a_value():
    with pytest.raises(TypeError, match="must be a Value"):
        draw_dot(2.0)
    with pytest.raises(TypeError, match="empty list"):
        draw_dot([])


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_rankdir_sets_the_layout_direction(rankdir):
    L, _ = classic()
    assert re.search(rf"\brankdir={rankdir}\b", draw_dot(L, rankdir=rankdir).source)
    assert re.search(r"\brankdir=LR\b", draw_dot(L).source)
    assert draw_dot(L, rankdir=rankdir).graph_attr["rankdir"] == rankdir


def test_node_kinds_have_their_own_colours():
    x = Value(1.0, label="x")
    w = Parameter(0.5, label="w")
    h = (w * x + 2.0).tanh()
    h.label = "h"
    y = h * 3.0
    y.label = "y"
    nodes = parse(draw_dot(y, legend=True).source)[0]
    named = by_label(nodes)
    consts = [n for n, (label, _) in nodes.items() if re.fullmatch(r"v\d+", n) and cells(label)[0].startswith("data ")]

    def fill(name):
        return re.search(r'BGCOLOR="(#\w+)"', nodes[name][0]).group(1)

    assert fill(named["x"][0]) == KINDS["input"][0]
    assert fill(named["w"][0]) == KINDS["parameter"][0]
    assert fill(named["h"][0]) == KINDS["value"][0]
    assert fill(named["y"][0]) == KINDS["output"][0]
    const_fills = {fill(n) for n in consts if "grad" not in nodes[n][0]}
    assert const_fills == {KINDS["constant"][0]}
    assert len({KINDS[k][0] for k in KINDS}) == len(KINDS)  # every kind tells itself apart
    legend = cells(nodes["legend"][0])
    for kind in ("input", "parameter", "constant", "value", "output", "op"):
        assert KINDS[kind][2] in legend
    assert "group" not in [k for k in KINDS if KINDS[k][2] in legend]


def test_colours_are_explicit_so_dark_themes_read_them():
    L, _ = classic()
    source = draw_dot(L).source
    assert 'bgcolor="#ffffff"' in source
    assert 'fontcolor="#111827"' in source
    nodes = parse(source)[0]
    for name, (label, attrs) in nodes.items():
        assert "BGCOLOR=" in label or "fillcolor=" in attrs, name
    assert "transparent" not in source


def test_constants_show_no_grad():
    x = Value(2.0, label="x")
    y = x * 5.0
    y.backward()
    nodes = parse(draw_dot(y).source)[0]
    const = [n for n, (label, _) in nodes.items() if cells(label) == ["data 5.0000"]]
    assert len(const) == 1


def test_constants_always_show_their_number():
    x = Value(2.0, label="x")
    y = x * 5.0
    nodes = parse(draw_dot(y, fields=("label", "grad")).source)[0]
    assert cells(nodes["v1"][0]) == ["5.0000"]


def test_grads_show_as_not_computed_until_backward_runs():
    L, v = classic()
    before = by_label(parse(draw_dot(L).source)[0])
    assert all(found[2] == f"grad {NOT_YET}" for _, found in before.values())
    L.backward()
    after = by_label(parse(draw_dot(L).source)[0])
    assert after["a"][1][2] == f"grad {v['a'].grad:.4f}" and v["a"].grad != 0.0
    assert after["L"][1][2] == "grad 1.0000"
    zero_grad(L)
    cleared = by_label(parse(draw_dot(L).source)[0])
    assert all(found[2] == f"grad {NOT_YET}" for _, found in cleared.values())


def test_a_genuine_zero_grad_after_backward_shows_as_zero():
    x = Value(0.0, label="x")
    y = x.relu()
    y.label = "y"
    y.backward()
    named = by_label(parse(draw_dot(y).source)[0])
    assert named["x"][1][2] == "grad 0.0000"


def test_grads_and_values_dicts_override_and_missing_nodes_show_the_mark():
    L, v = classic()
    named = by_label(parse(draw_dot(L, grads={v["L"]: 1.0, v["d"]: -2.0}).source)[0])
    assert named["L"][1][2] == "grad 1.0000" and named["d"][1][2] == "grad -2.0000"
    assert named["a"][1][2] == f"grad {NOT_YET}"
    named = by_label(parse(draw_dot(L, values={v["a"]: 2.0, v["b"]: -3.0}, fields=("label", "data")).source)[0])
    assert named["a"][1] == ["a", "data 2.0000"]
    assert named["e"][1] == ["e", f"data {NOT_YET}"]


def test_highlight_marks_nodes_and_only_the_edges_between_them():
    L, v = classic()
    source = draw_dot(L, highlight=[v["d"], v["f"], v["L"]]).source
    nodes, edges = parse(source)
    named = by_label(nodes)
    for key in ("d", "f", "L"):
        assert f'COLOR="{HIGHLIGHT}"' in nodes[named[key][0]][0]
    for key in ("a", "b", "c", "e"):
        assert HIGHLIGHT not in nodes[named[key][0]][0]
    Lname, dname, ename = named["L"][0], named["d"][0], named["e"][0]
    assert HIGHLIGHT in nodes[Lname + "op"][1] and HIGHLIGHT not in nodes[dname + "op"][1]
    marked = {(t, h) for t, h, attrs in edges if HIGHLIGHT in attrs}
    assert marked == {(dname, Lname + "op"), (named["f"][0], Lname + "op"), (Lname + "op", Lname)}
    # one value alone: nothing between marked values, so no edge or operation is marked
    nodes, edges = parse(draw_dot(L, highlight=v["e"]).source)
    assert not [e for e in edges if HIGHLIGHT in e[2]]
    assert HIGHLIGHT not in nodes[ename + "op"][1] and HIGHLIGHT in nodes[ename][0]


def test_highlight_refuses_nodes_outside_the_graph():
    L, _ = classic()
    with pytest.raises(ValueError, match="not in the graph"):
        draw_dot(L, highlight=[Value(1.0)])
    with pytest.raises(TypeError, match="highlight"):
        draw_dot(L, highlight=[1.0])


def test_operand_order_is_written_on_edges_of_ordered_operations():
    a, b = Value(1.0, label="a"), Value(4.0, label="b")
    q = a / b
    nodes, edges = parse(draw_dot(q).source)
    into = [(t, attrs) for t, h, attrs in edges if h == "v2op"]
    assert into == [("v0", 'label="1"'), ("v1", 'label="2"')]
    nodes, edges = parse(draw_dot(a * b).source)
    assert all("label=" not in attrs for _, _, attrs in edges)


def test_same_graph_gives_byte_identical_dot():
    def build():
        x = [Value(float(i), label=f"x{i}") for i in range(4)]
        w = [Parameter(0.1 * i) for i in range(4)]
        out = sum((wi * xi for wi, xi in zip(w, x)), Value(0.0))
        return (out.tanh() * x[0]) ** 2

    first, second = build(), build()
    assert draw_dot(first).source == draw_dot(second).source
    first.backward()
    second.backward()
    kw = dict(highlight=[], legend=True, rankdir="TB")
    assert draw_dot(first, **kw).source == draw_dot(second, **kw).source
    assert not re.search(r"0x[0-9a-f]{6,}|\d{9,}", draw_dot(first).source)  # no addresses or ids


NASTY = [
    'say "hi"',
    "a < b > c",
    "{ rec | ord } \\ back",
    "\\N \\G \\E \\L \\n",
    "line one\nline two",
    "<script>alert(1)</script>",
    "</TD></TR></TABLE>>]; evil [label=x",
    "&amp; &lt; &#60;",
    "ünïcødé λ → ∂L/∂w 🙂",
    "tab\there, nul\x00, bell\x07",
    "'single' ]]> <![CDATA[",
]


@pytest.mark.parametrize("label", NASTY)
def test_labels_are_shown_literally_and_cannot_break_the_dot(label):
    x = Value(1.0, label=label)
    y = x.exp()
    y.label = label
    nodes, edges = parse(draw_dot(y).source)
    assert set(nodes) == {"v0", "v1", "v1op"} and len(edges) == 2
    shown = cells(nodes["v0"][0])[0]
    assert shown == label.replace("\t", "\\t").replace("\x00", "\\x00").replace("\x07", "\\x07")


@given(st.text(max_size=40))
def test_any_label_round_trips_through_the_html_label(label):
    escaped = text(label)
    assert not re.search(r"[<>\"]", escaped.replace("<BR/>", ""))
    assert "\\" not in escaped.replace("\\\\", "")  # every backslash doubled
    back = html.unescape(escaped.replace("<BR/>", "\n")).replace("\\\\", "\\")
    visible = "".join(
        repr(ch)[1:-1] if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000
        or ord(ch) in (0xFFFE, 0xFFFF) else ch
        for ch in label.replace("\r\n", "\n")
    )
    assert back == visible


def chain(n, start=None):
    y = start if start is not None else Value(0.5, label="x")
    for _ in range(n):
        y = y * 1.0001
    return y


def test_the_size_guard_names_the_size_and_the_options():
    y = chain(400)  # 801 values and 400 operations
    with pytest.raises(GraphTooLargeError, match="max_nodes=None") as info:
        draw_dot(y)
    message = str(info.value)
    assert "1201 nodes" in message and f"max_nodes={MAX_NODES}" in message
    assert "collapse" not in message  # this graph has no scopes to collapse
    assert draw_dot(y, max_nodes=None).source.count(" -> ") == 1200
    assert draw_dot(chain(300)).nodes == 901  # below the default limit: drawn whole
    with pytest.raises(GraphTooLargeError, match="10 nodes"):
        draw_dot(Value(1.0) * 2.0 + 1.0 + 2.0, max_nodes=5)


class Trap(Value):
    """A leaf that fails the test if anything reads its parents: put it at the far end of a graph
    to show that a view stopped walking before reaching it."""

    __slots__ = ()

    @property
    def _prev(self):
        raise AssertionError("the whole graph was walked: the view should have stopped counting earlier")

    @_prev.setter
    def _prev(self, value):
        pass


def test_a_huge_graph_is_refused_as_soon_as_the_count_passes_the_limit():
    with pytest.raises(AssertionError, match="whole graph"):  # the trap springs when reached
        draw_dot(chain(3, Trap(1.0)))
    far = chain(100, Trap(1.0))
    with pytest.raises(GraphTooLargeError, match=r"more than 50 nodes .*counting stopped"):
        draw_dot(far, max_nodes=50, collapse=None)
    huge = chain(30_000, Trap(1.0))  # 90,000 nodes: more than even boxing modules would walk
    with pytest.raises(GraphTooLargeError, match=r"more than 50,000 nodes .*max_nodes=None") as info:
        draw_dot(huge)
    assert "pass collapse=" not in str(info.value)  # no modules in it to box


def test_a_long_chain_is_refused_or_drawn_never_recursion_error():
    y = Value(1.0, label="start")
    for _ in range(100_000):
        y = y + 1.0
    with pytest.raises(GraphTooLargeError, match="more than 50,000 nodes"):
        draw_dot(y)
    source = draw_dot(y, max_nodes=None, fields=("data",)).source
    assert source.count(" -> ") == 300_000
