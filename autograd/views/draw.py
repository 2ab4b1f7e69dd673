"""`draw_dot`: the graph of a computation as a picture, with every value and its gradient.

Legend (fill / border colour):

- **input** (light blue / blue): a leaf `Value` you made, such as ``Value(2.0, label="x")``
- **parameter** (light green / green): a `Parameter`, a leaf that training updates
- **constant** (light grey / grey): a `Constant`, a plain number that entered an operation (the 2 in
  ``2*x``); it never collects a gradient, so it shows no grad
- **intermediate** (white / grey): the result of an operation
- **root / output** (light amber / amber, thick border): the value drawn from, usually the loss
- **operation** (small grey oval): ``+``, ``*``, ``tanh``... between its inputs and its result;
  for ``-``, ``/``, ``**`` and ``leaky_relu`` the edges are numbered 1, 2 in operand order
- **module box** (light violet / violet, with ``collapse=``): a whole neuron, layer... drawn as one box
- **highlighted** (red border, red edges): the nodes passed as ``highlight=``

A value without a label is named ``v<i>`` (in grey italics): its position in the topological
order, the name the step-through (`autograd.steps`) gives it too. A constant without a label is
named by its number.

``—`` in place of a number means "not computed yet". Gradients show as ``—`` until ``backward()``
has run, and the rule is: backward has run when the root's ``.grad`` is not 0.0 (``backward()``
seeds it with 1.0; ``zero_grad()`` clears it). Passing ``grads=`` replaces that rule.

A learner's own Value class (micrograd's shape, or microgpt's without op names) is drawn with
its own labels and numbers; an operation it does not name shows as ``f``, and when its nodes
store their local gradients (microgpt's ``_local_grads``) each edge into an operation shows its
local gradient (``∂ 3.0000``). See `autograd.views.nodes` for how such a graph is read.

Every box has an explicit fill, text colour and a white background, so pictures read the same on
light and dark notebook themes. Node names in the DOT text are positions in the topological
order, so the same graph always gives byte-identical DOT. Labels are shown literally: they are
escaped for Graphviz's HTML-like labels, so no text can break the DOT or add markup to the SVG.
"""

import numbers
import re
from collections.abc import Mapping

from ..graph import gradients
from .nodes import Guest, GraphTooLargeError, as_roots, is_node, reach, short, topological
from .render import RendererNotFoundError, find_renderer, render
from ..value import Constant, Parameter, Value

__all__ = ["draw_dot", "draw_model", "render", "find_renderer", "GraphTooLargeError",
           "RendererNotFoundError", "MAX_NODES"]

MAX_NODES = 1000  # nodes (values, operations, boxes) drawn before draw_dot boxes modules or refuses
COLLAPSE_WALK = 50_000  # nodes walked, at most, by collapse="auto" looking for module boxes that fit
BOXED_WALK = 1_000_000  # nodes walked, at most, to box a graph by the modules named in collapse= (about 2 s)
NOT_YET = "\u2014"  # an em dash: this number has not been computed yet
FIELDS = ("label", "data", "grad")
RANKDIRS = ("LR", "RL", "TB", "BT")
ORDERED_OPS = ("-", "/", "**", "leaky_relu")  # ops whose operand order matters

TEXT = "#111827"
UNNAMED = "#4b5563"  # the v<i> name of a value without a label
EDGE = "#4b5563"
HIGHLIGHT = "#dc2626"
# kind -> (fill, border, meaning)
KINDS = {
    "input": ("#dbeafe", "#2563eb", "input (a leaf Value)"),
    "parameter": ("#dcfce7", "#16a34a", "parameter (trainable)"),
    "constant": ("#f3f4f6", "#9ca3af", "constant (no grad)"),
    "value": ("#ffffff", "#6b7280", "intermediate value"),
    "output": ("#fef3c7", "#d97706", "root / output"),
    "group": ("#ede9fe", "#7c3aed", "module (collapsed)"),
    "op": ("#f1f5f9", "#64748b", "operation"),
}


def draw_dot(root, format="svg", rankdir="LR", *, fields=FIELDS, fmt=".4f", highlight=(), grads=None,
             values=None, max_nodes=MAX_NODES, collapse="auto", legend=False):
    """Draw the graph that ``root`` was computed from; returns a `Drawing`, a ``graphviz.Digraph``.

    ``root`` is a `Value` (or a list of them, drawn together), or a node of your own Value class
    (micrograd's or microgpt's shape). The result has ``.source`` (DOT text), ``.svg()``,
    ``.png()``, ``.save("g.svg" | "g.png")``, graphviz's ``.render(filename)``, ``.pipe()`` and
    ``.view()``, and shows itself inline in Jupyter. The colours and marks are explained in this
    module's docstring. Drawing needs the ``viz`` extra (the graphviz package and its renderer).

    - ``format``: what graphviz's ``render()``, ``pipe()`` and ``view()`` make ("svg" by default,
      "png"...); ``rankdir``: "LR" (default), "RL", "TB" or "BT". Both may be passed by position,
      as in micrograd: ``draw_dot(root, "png", "TB")``.
    - ``fields``: which of "label", "data", "grad" each value shows, in that order; ``fmt`` is
      the number format.
    - ``highlight``: values to mark, with the operations and edges between marked values.
    - ``grads`` / ``values``: ``{node: number}`` shown instead of ``.grad`` / ``.data``; nodes
      missing from the dict show ``—`` (not computed yet).
    - ``max_nodes``: the most nodes (values, operations and boxes) to draw, 1000 by default; a
      larger graph is boxed by module (``collapse="auto"``) or refused with `GraphTooLargeError`,
      which says what to do instead, as soon as the count passes the limit. ``None`` draws anyway.
    - ``collapse``: draw each module as one box, using the scope tags values carry
      (``autograd.scope``, set by ``nn``). A name such as "Neuron" or "Layer" boxes every scope
      called that (``"Layer"`` matches "Layer 0", "Layer 1"...); an int ``k`` boxes by the first
      ``k`` scope names. Values that leave a box are drawn, with their numbers, so the picture
      shows what flows between modules. Parameters used only inside boxes, and constants used by
      one operation inside a box, are not drawn (each box counts them). A module called twice
      gives two boxes ("Layer 0 (call 2)"), told apart by what feeds each call (see `_calls`).
      ``"auto"`` (the default)
      draws every node when the graph fits in ``max_nodes``, and otherwise boxes the finest module
      level that fits, saying so under the picture; ``None`` never boxes. Boxes asked for by name
      or depth are drawn whenever they fit in ``max_nodes``, however large the graph (it is walked,
      up to a million nodes, a few seconds); ``"auto"`` looks for boxes in graphs of up to 50,000.
    - ``legend``: add the colour legend to the picture.
    """
    format, rankdir, fields, max_nodes = check_options(format, rankdir, fields=fields, fmt=fmt, grads=grads,
                                                       values=values, max_nodes=max_nodes, collapse=collapse,
                                                       legend=legend)
    # boxing modules needs the whole graph walked: further when the boxes were asked for by name;
    # a learner's own nodes carry no modules to box
    boxable = collapse is not None and max_nodes is not None and _ours(root)
    walk = max(max_nodes, COLLAPSE_WALK if collapse == "auto" else BOXED_WALK) if boxable else max_nodes

    def refuse(count):
        raise GraphTooLargeError(_too_large_early(count, walk, max_nodes, collapse, root))

    roots, guests = as_roots(root, "draw_dot(root)", walk, refuse=refuse)
    size = reach(roots, walk)
    if walk is not None and size > walk:
        refuse(size)
    order = _order(roots)
    auto = collapse == "auto"
    if auto:
        collapse = None if max_nodes is None or size <= max_nodes else _auto_collapse(order, roots, max_nodes)
    plan = _plan(order, roots, collapse)
    drawn = plan.size()
    if max_nodes is not None and drawn > max_nodes:
        raise GraphTooLargeError(_too_large(order, plan, drawn, max_nodes, collapse))
    marked = _check_highlight(highlight, plan, guests)
    dot = _Dot(rankdir, fields, fmt, _data_getter(values), _grad_getter(roots, grads))
    body = dot.build(order, roots, plan, marked, legend)
    graph = dict(GRAPH, rankdir=rankdir)
    if auto and collapse is not None:
        graph.update(label=f"<{_caption(size, collapse, max_nodes)}>", labelloc="b", fontsize="10",
                     fontname="Helvetica", fontcolor=UNNAMED)
    try:
        from .drawing import Drawing  # needs graphviz: imported here, where drawing happens
    except ImportError as error:
        raise ImportError(f'draw_dot needs the graphviz package ({error}): pip install "chainrule[viz]"') from None

    return Drawing("chainrule", format=format, graph_attr=graph, node_attr=NODE, edge_attr=EDGE_STYLE,
                   body=body, nodes=drawn, collapsed=collapse)


def check_options(format="svg", rankdir="LR", *, fields=FIELDS, fmt=".4f", highlight=(), grads=None, values=None,
                  max_nodes=MAX_NODES, collapse="auto", legend=False):
    """`draw_dot`'s options checked without drawing anything, so a tool that draws later (the
    stepper, `save_steps`) can fail at once, naming the option. Returns the cleaned format,
    rankdir, fields and max_nodes."""
    format = _check_format(format)
    rankdir = _check_rankdir(rankdir)
    fields = _check_fields(fields)
    _check_fmt(fmt)
    max_nodes = _check_max_nodes(max_nodes)
    _check_numbers(grads, "grads")
    _check_numbers(values, "values")
    _check_legend(legend)
    if collapse != "auto" and collapse is not None:
        _scope_key(collapse)  # a bad name or depth fails before anything is walked
    return format, rankdir, fields, max_nodes


GRAPH = {"bgcolor": "#ffffff", "nodesep": "0.25", "ranksep": "0.35", "pad": "0.15"}
NODE = {"shape": "plain", "fontname": "Helvetica", "fontsize": "12", "fontcolor": TEXT}
EDGE_STYLE = {"color": EDGE, "arrowsize": "0.7", "fontname": "Helvetica", "fontsize": "9", "fontcolor": EDGE}


def _caption(size, collapse, max_nodes):
    what = f"each {collapse}" if isinstance(collapse, str) else f"modules to depth {collapse}"
    return text(f"{size} nodes, more than max_nodes={max_nodes}: {what} drawn as one box. "
                "collapse=None, max_nodes=None draws every node.")


def draw_model(model, x, *, collapse="auto", backward=False, max_nodes=MAX_NODES, **options):
    """Run ``model`` on one example ``x`` and draw the graph of its output.

    ``model`` is any callable (an ``nn.MLP``, an ``nn.GPT``, a function...). ``x`` is a number or
    a list of numbers; each becomes an input `Value` labelled ``x`` or ``x[i]`` (`Value`s are used
    as they are). A list of ints that the model refuses as `Value`s (token ids: an ``nn.GPT``
    reads ``[26, 4, 12]``) is passed to it as it is. The output is a `Value` or a list of them,
    nested as deep as the model returns them (a GPT gives a list of logits per position); one
    without a label is labelled ``out``, ``out[i]`` or ``out[i][j]``.
    ``collapse="auto"`` draws every value when the graph fits in ``max_nodes``, and otherwise
    boxes the finest module level that fits (neurons before layers before whole networks).
    ``backward=True`` also shows d(output)/d(node) for every node, computed without changing any
    ``.grad`` (a model with one output only). Other keywords go to `draw_dot`.
    """
    if not callable(model):
        raise TypeError(f"draw_model(model, x) needs a callable model, got {type(model).__name__}")
    if not isinstance(backward, bool):
        raise TypeError(f"draw_model(backward={short(backward)}): give True or False")
    max_nodes = _check_max_nodes(max_nodes)
    if backward and "grads" in options:
        raise TypeError("draw_model(): pass either backward=True or grads=, not both")
    inputs = _inputs(x)
    try:
        out = model(inputs)
    except (TypeError, ValueError, IndexError, KeyError) as error:
        ids = _ids(x)
        if ids is None:
            raise
        try:  # a model that reads ids (a GPT's tokens) takes them as they are
            out = model(ids)
        except Exception as refused:
            # refused as ids too: the same kind of complaint is about what the user gave (a token id out
            # of range), not about the Values made of it; another kind, the first complaint stands
            raise (refused if type(refused) is type(error) else error) from None
    roots, labels = _outputs(out)
    for r, label in zip(roots, labels):
        if not r.label:
            r.label = label
    roots = list(dict.fromkeys(roots))
    if backward:
        if len(roots) != 1:
            raise ValueError(
                f"backward=True needs a model with one output, got {len(roots)}; draw without it, "
                "or call draw_dot(loss) on a loss computed from the outputs"
            )
        order = _order(roots)
        options["grads"] = dict(zip(order, gradients(roots[0], order)))
    return draw_dot(roots[0] if len(roots) == 1 else roots, collapse=collapse, max_nodes=max_nodes, **options)


# ---- checking the arguments -------------------------------------------------------------------------
def _outputs(out):
    """A model's outputs as a flat list of Values, each with the label it gets if it has none:
    ``out``, ``out[i]``, ``out[i][j]``... (a list of lists, as a GPT returns, is walked through)."""
    what = "draw_model(): the model's output must be a Value or a list of Values (lists of lists too)"
    roots, labels, stack = [], [], [(out, "out", 0)]
    while stack:
        item, label, depth = stack.pop()
        if isinstance(item, Value):
            roots.append(item)
            labels.append(label)
            continue
        items = None
        if not isinstance(item, (str, bytes)) and depth <= 20:
            try:
                items = list(item)
            except TypeError:
                pass
        if items is None:
            at = "" if depth == 0 else f" at {label}"
            raise TypeError(f"{what}; got a {type(item).__name__}{at}: {short(item)}")
        stack.extend((v, f"{label}[{i}]", depth + 1) for i, v in reversed(list(enumerate(items))))
    if not roots:
        raise TypeError(f"{what}; got {short(out)}, which holds none")
    return roots, labels


def _inputs(x):
    """``x`` as the model's input: a number or a list of numbers, each an input Value."""
    if isinstance(x, Value):
        return x
    where = "draw_model(model, x)"
    if isinstance(x, str):
        raise TypeError(f"{where}: x is text ({short(x)}); give the token ids the model reads (for an nn.GPT: "
                        "[model.tokenizer.bos, *model.tokenizer.encode(text)]), or draw one position of a GPT with "
                        "nn.gpt_views.draw_position(model, text)")
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(_float(x, "x"), label="x")
    try:
        if isinstance(x, (bytes, bytearray, Mapping)):
            raise TypeError
        items = list(x)
    except TypeError:
        raise TypeError(f"{where}: x must be a number or a list of numbers, got {type(x).__name__}: {short(x)}") from None
    if not items:
        raise ValueError(f"{where}: x is empty; give the example to run, a number or a list of numbers")
    made = []
    for i, v in enumerate(items):
        if isinstance(v, Value):
            made.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            made.append(Value(_float(v, f"x[{i}]"), label=f"x[{i}]"))
        else:
            raise TypeError(f"{where}: x must be a number or a list of numbers, but x[{i}] is a "
                            f"{type(v).__name__}: {short(v)}")
    return made


def _float(v, name):
    try:
        return float(v)
    except OverflowError:
        raise OverflowError(f"draw_model(model, x): {name} is an int of {len(str(abs(v)))} digits, too large for "
                            "a float (|x| < 1.8e308)") from None


def _ids(x):
    """``x`` as token ids (an int, or a list of ints), or None when it is anything else."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return x
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in x):
        return list(x)
    return None


def _check_rankdir(rankdir):
    r = rankdir.upper() if isinstance(rankdir, str) else rankdir
    if r not in RANKDIRS:
        raise ValueError(f"rankdir={short(rankdir)}: choose one of {', '.join(RANKDIRS)}")
    return r


def _check_format(format):
    if not isinstance(format, str) or not format.strip():
        raise TypeError(f"format={short(format)}: give an output format such as 'svg' or 'png'")
    return format.strip().lower().lstrip(".")


def _check_legend(legend):
    if not isinstance(legend, bool):
        raise TypeError(f"legend={short(legend)}: give True or False")


def _check_numbers(numbers_of, name):
    """``grads=`` / ``values=``: a dict from nodes to numbers (None shows as not computed yet)."""
    if numbers_of is None:
        return None
    if not isinstance(numbers_of, Mapping):
        raise TypeError(f"{name}= takes a dict {{node: number}}, got a {type(numbers_of).__name__}: {short(numbers_of)}")
    for node, x in numbers_of.items():
        if not is_node(node):
            raise TypeError(f"{name}= maps nodes (Values) to numbers, but one key is a {type(node).__name__}: "
                            f"{short(node)}; use the Value itself, not its label")
        label = getattr(node, "label", "")
        who = f"{name}[{short(label)}]" if label else f"{name}[{short(node)}]"
        if x is None or isinstance(x, Value):
            continue
        if not isinstance(x, numbers.Real) or isinstance(x, bool):
            raise TypeError(f"{name}= maps nodes to numbers, but {who} is a {type(x).__name__}: {short(x)}")
        try:
            float(x)
        except OverflowError:
            raise OverflowError(f"{name}= maps nodes to numbers, but {who} is an int of {len(str(abs(x)))} digits, "
                                "too large to show as a float (|x| < 1.8e308)") from None
    return numbers_of


def _check_fields(fields):
    if isinstance(fields, str):
        fields = (fields,)
    try:
        if isinstance(fields, (bytes, bytearray)):
            raise TypeError
        fields = tuple(fields)
    except TypeError:
        raise TypeError(f"fields={short(fields)}: give one or more of {FIELDS}, such as fields=('label', 'grad')") from None
    bad = [f for f in fields if not isinstance(f, str) or f not in FIELDS]
    if bad or not fields or len(set(fields)) != len(fields):
        raise ValueError(f"fields={short(fields)}: give one or more of {FIELDS}, each once")
    return fields


def _check_fmt(fmt):
    try:
        format(1.0, fmt)
    except (TypeError, ValueError):
        raise ValueError(f"fmt={short(fmt)} is not a format for floats; try '.4f', '.3g' or '.2e'") from None


def _check_max_nodes(max_nodes):
    if max_nodes is None:
        return None
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, numbers.Integral) or max_nodes < 1:
        raise ValueError(f"max_nodes={short(max_nodes)}: give a positive int, or None for no limit")
    return int(max_nodes)


def _ours(root):
    """Whether ``root`` (a node or a list) is made of chainrule's own nodes, which can carry scopes."""
    if isinstance(root, Value):
        return True
    return isinstance(root, (list, tuple)) and all(isinstance(r, Value) for r in root)


def _check_highlight(highlight, plan, guests=None):
    if is_node(highlight):
        highlight = (highlight,)
    try:
        if isinstance(highlight, (str, bytes, bytearray)):
            raise TypeError
        highlight = tuple(highlight)
    except TypeError:
        raise TypeError(f"highlight= takes a Value or a list of them, got a {type(highlight).__name__}") from None
    marked = {}
    for node in highlight:
        if guests is not None and not isinstance(node, Guest):
            node = guests.get(id(node), node)  # one of the learner's own nodes
        if not is_node(node):
            raise TypeError(f"highlight= takes Values, got a {type(node).__name__}: {short(node)}")
        if node not in plan.index:
            raise ValueError(f"highlight=: {short(node)} is not in the graph being drawn")
        marked[node] = True
    return marked


def _lookup(numbers_of):
    """``numbers_of.get``, that also finds a learner's node under its own key."""
    def get(node):
        x = numbers_of.get(node)
        if x is None and type(node) is Guest:
            try:
                x = numbers_of.get(node.original)
            except TypeError:  # their class is not hashable
                return None
        return x

    return get


def _grad_getter(roots, grads):
    if grads is not None:
        return _lookup(grads)
    if any(r.grad != 0.0 for r in roots):
        return lambda node: node.grad
    return lambda node: None  # backward has not run: no gradient is known yet


def _data_getter(values):
    if values is not None:
        return _lookup(values)
    return lambda node: node.data


def _order(roots):
    """Topological order of everything the roots depend on, with the engine's own ordering rule."""
    return topological(roots)


# ---- collapsing modules into boxes --------------------------------------------------------------------
class _Box:
    __slots__ = ("key", "members", "outputs", "inputs", "ops", "params", "consts", "number")

    def __init__(self, key):
        self.key = key
        self.members = []  # nodes inside, in topological order
        self.outputs = []  # members used outside the box (or roots): drawn
        self.inputs = {}  # drawn nodes outside that feed the box, in order
        self.ops = 0
        self.params = 0
        self.consts = 0
        self.number = 1  # the n-th box with this key (a module called more than once)


class _Plan:
    """Which nodes are drawn, and which sit inside which box."""

    def __init__(self, order):
        self.index = {node: i for i, node in enumerate(order)}
        self.box_of = {}  # node -> box index, for every node inside a box
        self.boxes = []
        self.shown = {}  # box outputs (members drawn anyway)
        self.values = len(order)
        self.ops = sum(1 for node in order if node._prev)

    def hidden(self, node):
        return node in self.box_of and node not in self.shown

    def size(self):
        if not self.boxes:
            return self.values + self.ops
        drawn = self.values - len(self.box_of) + len(self.shown)
        inner_ops = sum(box.ops for box in self.boxes)
        return drawn + (self.ops - inner_ops) + len(self.boxes)


def _scope_key(collapse):
    if isinstance(collapse, bool) or not isinstance(collapse, (str, numbers.Integral)):
        raise TypeError(f"collapse={short(collapse)}: give a scope name such as 'Neuron' or 'Layer', a depth (int), or None")
    if isinstance(collapse, numbers.Integral):
        depth = int(collapse)
        if depth < 1:
            raise ValueError(f"collapse={short(collapse)}: a depth must be 1 or more")
        return lambda s: s[:depth] if len(s) >= depth else None
    name = collapse.strip()
    if not name:
        raise ValueError("collapse='': give a scope name such as 'Neuron' or 'Layer'")
    prefix = name + " "

    def key(s):
        for i, part in enumerate(s):
            if part == name or part.startswith(prefix):
                return s[: i + 1]
        return None

    return key


def scope_kinds(nodes):
    """The scope names of the nodes without their indices ('Layer 0' -> 'Layer'), innermost first."""
    depth = {}
    for scope in dict.fromkeys(node._scope for node in nodes):
        for i, part in enumerate(scope):
            kind = re.sub(r"\s+\d+$", "", part)
            if kind not in depth:
                depth[kind] = i
    return sorted(depth, key=lambda k: -depth[k])


def _plan(order, roots, collapse):
    plan = _Plan(order)
    if collapse is None:
        return plan
    key_of = _scope_key(collapse)
    keys = {node: k for node in order if node._prev and (k := key_of(node._scope)) is not None}
    if not keys:
        kinds = scope_kinds(order)
        found = f"its scopes are: {', '.join(map(repr, kinds))}" if kinds else (
            "it has no scope tags (values made inside `with autograd.scope(name):`, or by nn modules, carry them)")
        raise ValueError(f"collapse={short(collapse)} matches no scope in this graph; {found}")
    find, consumers = _calls(order, keys)
    box_at = {}
    seen_keys = {}
    for node in order:
        if node in keys:
            top = find(node)
            if top not in box_at:
                box = _Box(keys[node])
                seen_keys[box.key] = box.number = seen_keys.get(box.key, 0) + 1
                box_at[top] = len(plan.boxes)
                plan.boxes.append(box)
            b = box_at[top]
            plan.box_of[node] = b
            box = plan.boxes[b]
            box.members.append(node)
            box.ops += 1
    is_root = dict.fromkeys(roots, True)
    for node in order:  # weights, and numbers written in a module's formula, vanish into its box
        if node._prev or node in is_root:
            continue
        users = consumers.get(node, ())
        boxes = [plan.box_of.get(c) for c in users]
        if isinstance(node, Parameter):
            inside = bool(users)
        else:  # a constant used once is part of a formula; one used more often is data flowing in
            inside = len(users) == 1 and (isinstance(node, Constant) or key_of(node._scope) is not None)
        if inside and all(b is not None for b in boxes):
            plan.box_of[node] = boxes[0]
            for b in dict.fromkeys(boxes):
                if isinstance(node, Parameter):
                    plan.boxes[b].params += 1
                elif isinstance(node, Constant):
                    plan.boxes[b].consts += 1
    for node in order:
        b = plan.box_of.get(node)
        if b is None or not node._prev:
            continue
        box = plan.boxes[b]
        if node in is_root or any(plan.box_of.get(c) != b for c in consumers.get(node, ())):
            plan.shown[node] = True
            box.outputs.append(node)
        for p in node._prev:
            if plan.box_of.get(p) != b and not plan.hidden(p):
                box.inputs[p] = True
    return plan


def _calls(order, keys):
    """Which module call each boxed node belongs to: ``find(node)`` names its call, and the nodes of
    one call are one box. Returns ``find`` and ``{node: [the nodes using it]}``.

    The scope tags say which module made a node, not which call of it, so the calls are read from
    the graph. Nodes of one module are one call when linked by an edge, or fed by the same value or
    the same call of another module (the neurons of a layer share their inputs; an elementwise
    module such as Dropout is fed by one call of the layer before it). A part of a module fed by
    nothing but its weights and the numbers of its formula (an embedding lookup added to another:
    ``wte[t] + wpe[p]``) has no input to tell its call by: it joins the parts that feed the same value
    or the same call. A module called on two unrelated inputs gives two calls. Nodes outside every
    box are grouped the same way, by their scope cut to the boxes' depth, so that "the same call of
    another module" compares modules of one level (a layer, not each of its neurons). Weights are shared by every call, so they link
    nothing; a number used by several nodes is data flowing in, and links them like any value.
    """
    depth = max(len(k) for k in keys.values())
    group = {}  # node -> (True, box key) or (False, its scope cut to the boxes' depth): what it is a call of
    for node in order:
        if node._prev:
            k = keys.get(node)
            if k is not None:
                group[node] = (True, k)
            elif node._scope:
                group[node] = (False, node._scope[:depth])
    link = {node: node for node in group}
    consumers = {}
    for node in order:
        for p in node._prev:
            consumers.setdefault(p, []).append(node)

    def find(n):
        while link[n] is not n:
            link[n] = link[link[n]]
            n = link[n]
        return n

    def join(a, b):
        a, b = find(a), find(b)
        if a is b:
            return False
        link[a] = b
        return True

    def call(n):  # a node's call, or the node itself outside every module
        return find(n) if n in group else n

    def anchors(p):  # an input that tells a call apart: not a weight, not a number used once
        return not isinstance(p, Parameter) and not (isinstance(p, Constant) and len(consumers.get(p, ())) < 2)

    members = [node for node in order if node in group]
    changed = True
    while changed:  # joining calls can make two nodes fed by "the same call": repeat until nothing joins
        changed = False
        fed = {}
        for node in members:
            g = group[node]
            for p in node._prev:
                if isinstance(p, Parameter):
                    continue
                if group.get(p) == g:
                    changed |= join(node, p)
                else:
                    changed |= join(node, fed.setdefault((call(p), g), node))
        anchored = {find(node) for node in members
                    if any(anchors(p) and group.get(p) != group[node] for p in node._prev)}
        feeding = {}
        for node in members:
            if find(node) in anchored:
                continue
            g = group[node]
            for c in consumers.get(node, ()):
                if group.get(c) != g:
                    changed |= join(node, feeding.setdefault((call(c), g), node))
    return find, consumers


def _auto_collapse(order, roots, max_nodes):
    """None when everything fits, else the finest boxes that fit: from the deepest scope level up,
    each module name found at a level, then every module at that level together (a depth), so a
    model whose parts differ (a GPT: embedding, norm, blocks, head) is boxed part by part. The
    coarsest is returned when nothing fits (the caller then says so)."""
    if max_nodes is None or _plan(order, roots, None).size() <= max_nodes:
        return None
    levels = {}
    for scope in dict.fromkeys(node._scope for node in order):
        for depth, part in enumerate(scope, 1):
            levels.setdefault(depth, {})[re.sub(r"\s+\d+$", "", part)] = True
    candidates = []
    for depth in sorted(levels, reverse=True):
        candidates += [name for name in levels[depth] if name not in candidates]
        if len(levels[depth]) > 1:
            candidates.append(depth)
    for collapse in candidates:
        try:
            if _plan(order, roots, collapse).size() <= max_nodes:
                return collapse
        except ValueError:  # the name is only on leaves: nothing to box
            continue
    return candidates[-1] if candidates else None


def _too_large_early(count, walk, max_nodes, collapse, root):
    """Why a graph was refused before it was walked whole, and what to do instead."""
    stopped = "values and operations; counting stopped there"
    part = "draw a part of it (draw_dot(some_intermediate_value))"
    if walk == max_nodes and collapse is None:
        return (f"this graph is too large to draw readably: more than {max_nodes} nodes ({stopped}), above "
                f"max_nodes={max_nodes}. Instead: {part}; pass collapse='auto' or a module name to box modules "
                "(graphs made by nn); or pass max_nodes=None to draw it anyway (layout may take minutes).")
    if walk == max_nodes:
        return (f"this graph is too large to draw readably: more than {max_nodes} nodes ({stopped}), above "
                f"max_nodes={max_nodes}. Instead: {part}, or pass max_nodes=None to draw it anyway (layout may take "
                "minutes).")
    if collapse != "auto":
        boxes = f"each {collapse} as one box" if isinstance(collapse, str) else f"modules boxed to depth {collapse}"
        return (f"this graph is too large to box: more than {walk:,} nodes ({stopped}), and drawing {boxes} means "
                f"walking every one of them. Instead: {part}; or pass max_nodes=None to box it anyway (the walk takes "
                "a few seconds per million nodes, and the boxed picture may still be large).")
    kinds = _kinds_within(root, walk)
    if not kinds:
        return (f"this graph is too large to draw: more than {walk:,} nodes ({stopped}), far above "
                f"max_nodes={max_nodes}, and it has no modules to box. Instead: {part}, or pass max_nodes=None to "
                "draw it anyway (layout may take hours).")
    names = " or ".join(repr(k) for k in kinds)
    return (f"this graph is too large to draw readably: more than {walk:,} nodes ({stopped}), and collapse='auto' "
            f"looks for module boxes only in graphs of up to {walk:,}. Instead: {part}; pass collapse={names} to "
            "draw each of those modules as one box (that walks the whole graph, and draws it if the boxes fit in "
            "max_nodes); or pass max_nodes=None, collapse=None to draw every node (layout may take hours).")


def _kinds_within(root, limit):
    """The scope names (without indices) of the first ``limit`` nodes a walk from ``root`` meets."""
    roots = [root] if isinstance(root, Value) else list(root)
    seen, stack = dict.fromkeys(roots, True), list(roots)
    while stack and len(seen) <= limit:
        for p in stack.pop()._prev:
            if p not in seen:
                seen[p] = True
                stack.append(p)
    return scope_kinds(seen)


def _too_large(order, plan, size, max_nodes, collapse):
    if collapse is not None:
        boxed = f"each {collapse} drawn as one box" if isinstance(collapse, str) else f"modules boxed to depth {collapse}"
        return (f"this graph is too large to draw readably: {size} nodes even with {boxed}, above "
                f"max_nodes={max_nodes}. Instead: draw a part of it (draw_dot(some_intermediate_value)); "
                "or pass max_nodes=None to draw it anyway (layout may take minutes).")
    options = []
    kinds = scope_kinds(order)
    if kinds:
        names = ", ".join(repr(k) for k in kinds[:-1]) + (" or " if len(kinds) > 1 else "") + repr(kinds[-1])
        options.append(f"pass collapse={names} to draw each module as one box")
    options.append("draw a part of it (draw_dot(some_intermediate_value))")
    options.append("pass max_nodes=None to draw it anyway (layout may take minutes)")
    return (f"this graph is too large to draw readably: {size} nodes ({plan.values} values and {plan.ops} "
            f"operations), above max_nodes={max_nodes}. Instead: {'; '.join(options[:-1])}; or {options[-1]}.")


# ---- writing DOT ---------------------------------------------------------------------------------------
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\\": "\\\\"}


def text(s):
    """``s`` as literal text inside a Graphviz HTML-like label.

    Markup characters become entities; a backslash is doubled (Graphviz would otherwise read
    ``\\N`` as the node's name); a newline becomes a line break; other control characters and
    unpaired surrogates are shown as their Python escapes (``\\t``, ``\\x00``).
    """
    s = str(s).replace("\r\n", "\n")
    out = []
    for ch in s:
        code = ord(ch)
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch == "\n":
            out.append("<BR/>")
        elif code < 32 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0xFFFE, 0xFFFF):
            out.append(repr(ch)[1:-1].replace("\\", "\\\\"))
        else:
            out.append(ch)
    return "".join(out)


class _Dot:
    def __init__(self, rankdir, fields, fmt, data_of, grad_of):
        self.rankdir = rankdir
        self.fields = fields
        self.fmt = fmt
        self.data_of = data_of
        self.grad_of = grad_of
        self.not_yet = False  # some number shows as not computed yet
        self.unnamed = False  # some value shows its v<i> name

    def number(self, x):
        if x is None:
            self.not_yet = True
            return NOT_YET
        try:
            return format(x, self.fmt)
        except (TypeError, ValueError):  # a learner's node may hold something else: show what it is
            return short(x, 30)

    def value_label(self, node, i, kind, marked):
        cells = []
        for field in self.fields:
            if field == "label":
                if node.label:
                    cells.append(f"<B>{text(node.label)}</B>")
                elif kind != "constant":  # the name the step-through uses for it
                    self.unnamed = True
                    cells.append(f'<FONT COLOR="{UNNAMED}"><I>v{i}</I></FONT>')
            elif field == "data":
                cells.append(f"data {text(self.number(self.data_of(node)))}")
            elif kind != "constant":
                cells.append(f"grad {text(self.number(self.grad_of(node)))}")
        if not cells:  # a constant with neither label nor data shown: its number is its name
            cells.append(text(self.number(self.data_of(node))) if kind == "constant" else " ")
        return self.table(cells, kind, marked)

    def table(self, cells, kind, marked, rows=None):
        fill, border, _ = KINDS[kind]
        width = 3 if marked else 2 if kind in ("output", "group") else 1
        colour = HIGHLIGHT if marked else border
        if rows is None:
            rows = self.rankdir in ("TB", "BT")
        sep = "</TD></TR><TR><TD>" if rows else "</TD><TD>"
        lines = ' ROWS="*"' if rows else ' COLUMNS="*"'
        return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4"{lines} '
                f'BGCOLOR="{fill}" COLOR="{colour}" STYLE="rounded"><TR><TD>{sep.join(cells)}</TD></TR></TABLE>>')

    def box_label(self, box, marked):
        name = text(box.key[-1]) + (f" (call {box.number})" if box.number > 1 else "")
        path = " \u203a ".join(text(part) for part in box.key[:-1])
        parts = [f"{box.ops} ops"]
        if box.params:
            parts.append(f"{box.params} parameters")
        if box.consts:
            parts.append(f"{box.consts} constants")
        cells = [f"<B>{name}</B>"] + ([f'<FONT POINT-SIZE="9">{path}</FONT>'] if path else [])
        cells.append(f'<FONT POINT-SIZE="9">{", ".join(parts)}</FONT>')
        return self.table(cells, "group", marked, rows=True)

    def legend(self, kinds, ordered, local=False):
        rows = ['<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>']
        for kind in kinds:
            fill, border, meaning = KINDS[kind]
            rows.append(f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="18"> </TD>'
                        f'<TD ALIGN="LEFT">{text(meaning)}</TD></TR>')
        if self.unnamed:
            rows.append(f'<TR><TD><FONT COLOR="{UNNAMED}"><I>v3</I></FONT></TD>'
                        '<TD ALIGN="LEFT">a value without a label (its place in the order)</TD></TR>')
        if self.not_yet:
            rows.append(f'<TR><TD>{NOT_YET}</TD><TD ALIGN="LEFT">not computed yet (run backward())</TD></TR>')
        if ordered:
            rows.append('<TR><TD>1, 2</TD><TD ALIGN="LEFT">operand order on edges</TD></TR>')
        if local:
            rows.append('<TR><TD>\u2202 3.0</TD><TD ALIGN="LEFT">the local gradient the node stored</TD></TR>')
        return ('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" BGCOLOR="#ffffff" '
                f'COLOR="#9ca3af">{"".join(rows)}</TABLE>>')

    def build(self, order, roots, plan, marked, legend):
        is_root = dict.fromkeys(roots, True)
        box_marked = {plan.box_of[n] for n in marked if n in plan.box_of and plan.hidden(n)}
        for b, box in enumerate(plan.boxes):  # a marked value goes in and a marked value comes out
            if any(p in marked for p in box.inputs) and any(o in marked for o in box.outputs):
                box_marked.add(b)
        nodes, edges, kinds = [], [], {}
        ordered = local_shown = False

        def edge(a, b, on, label=None):
            attrs = [f"label={label}"] if label else []
            if on:
                attrs += [f'color="{HIGHLIGHT}"', "penwidth=2.5"]
            edges.append(f"\t{a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + "\n")

        def name(node):
            return f"v{plan.index[node]}"

        for i, node in enumerate(order):
            if plan.hidden(node):
                continue
            if node in is_root:
                kind = "output"
            elif node._prev:
                kind = "value"
            elif isinstance(node, Constant):
                kind = "constant"
            elif isinstance(node, Parameter):
                kind = "parameter"
            else:
                kind = "input"
            kinds[kind] = True
            on = node in marked
            nodes.append(f"\tv{i} [label={self.value_label(node, i, kind, on)}]\n")
            if not node._prev:
                continue
            b = plan.box_of.get(node)
            if b is not None:
                edge(f"g{b}", f"v{i}", on and b in box_marked)
                continue
            kinds["op"] = True
            op_on = on and any(p in marked for p in node._prev)
            fill, border = KINDS["op"][:2]
            colour = HIGHLIGHT if op_on else border
            pen = ", penwidth=2.5" if op_on else ""
            nodes.append(f'\tv{i}op [label=<{text(node._op)}>, shape=ellipse, style=filled, fillcolor="{fill}", '
                         f'color="{colour}"{pen}, margin="0.04,0.02", width=0.3, height=0.3]\n')
            guest = type(node) is Guest
            local = node._local if guest else None
            numbered = (node._op in ORDERED_OPS and len(node._prev) > 1) and (not guest or node._ordered)
            ordered = ordered or numbered
            local_shown = local_shown or local is not None
            for j, p in enumerate(node._prev):
                label = f'"{j + 1}"' if numbered else f"<\u2202 {text(self.number(local[j]))}>" if local else None
                edge(name(p), f"v{i}op", on and p in marked, label)
            edge(f"v{i}op", f"v{i}", op_on)
        for b, box in enumerate(plan.boxes):
            kinds["group"] = True
            on = b in box_marked
            nodes.append(f"\tg{b} [label={self.box_label(box, on)}]\n")
            for p in box.inputs:
                edge(name(p), f"g{b}", on and p in marked)
        head = []
        if legend:
            order_of = [k for k in KINDS if k in kinds]
            head.append(f"\tlegend [label={self.legend(order_of, ordered, local_shown)}]\n")
        return head + nodes + edges
