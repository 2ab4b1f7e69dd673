"""A seeded random expression graph that every engine replays op for op.

The plan is made once on plain floats, so each op's result is known to stay in a safe range
(``1e-3 <= |x| <= 4``, or exactly 0 after a relu) and every engine computes the very same numbers.
Shape: ``width`` leaves, then ``depth`` layers of ``width`` ops; op ``j`` of a layer takes value ``j``
of the layer below (so every value is used) and, for a binary op, a random value of that layer.
A balanced tree of ``+`` sums the last layer into one root. Depth stays near ``depth`` at every size,
so an engine whose backward recurses (micrograd) still runs at its default recursion limit.
"""

import random
from array import array

ADD, MUL, SCALE, RELU = 0, 1, 2, 3
OP_NAMES = {ADD: "a+b", MUL: "a*b", SCALE: "a*c", RELU: "relu(a)"}
DEPTH = 100


class Plan:
    """Leaf values, then per layer: op codes, second-operand indices and constants."""

    def __init__(self, n_ops, seed=0, depth=DEPTH):
        rng = random.Random(seed)
        # n_ops ~= depth*width ops + (width-1) sums
        self.width = width = max(2, round((n_ops + 1) / (depth + 1)))
        self.leaves = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.0) for _ in range(width)]
        self.layers = []
        prev = list(self.leaves)
        counts = dict.fromkeys(OP_NAMES, 0)
        for _ in range(depth):
            ops, others, consts = array("b"), array("l"), array("d")
            cur = []
            for j in range(width):
                a = prev[j]
                k = rng.randrange(width)
                c = rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5)
                choices = [ADD, MUL, SCALE, RELU]
                rng.shuffle(choices)
                for op in choices:
                    r = _apply(op, a, prev[k], c)
                    if (r == 0.0 and op == RELU) or 1e-3 <= abs(r) <= 4.0:
                        break
                ops.append(op)
                others.append(k)
                consts.append(c)
                counts[op] += 1
                cur.append(r)
            self.layers.append((ops, others, consts))
            prev = cur
        self.op_counts = counts
        self.n_ops = depth * width + width - 1
        self.n_nodes = self.n_ops + width  # every value, leaves included (not the constants)
        self.depth = depth + (width - 1).bit_length()


def _apply(op, a, b, c):
    if op == ADD:
        return a + b
    if op == MUL:
        return a * b
    if op == SCALE:
        return a * c
    return a if a > 0.0 else 0.0


def replay(plan, leaves):
    """Run ``plan`` on ``leaves`` (the engine's leaf values); returns the root.

    The same code drives every engine: it needs only ``+``, ``*`` (with a value or a float) and
    ``.relu()``.
    """
    prev = leaves
    for ops, others, consts in plan.layers:
        cur = []
        append = cur.append
        for a, op, k, c in zip(prev, ops, others, consts):
            if op == 0:
                append(a + prev[k])
            elif op == 1:
                append(a * prev[k])
            elif op == 2:
                append(a * c)
            else:
                append(a.relu())
        prev = cur
    while len(prev) > 1:
        nxt = [prev[i] + prev[i + 1] for i in range(0, len(prev) - 1, 2)]
        if len(prev) % 2:
            nxt.append(prev[-1])
        prev = nxt
    return prev[0]
