"""The hidden-layer activations, each as a graph function and as its float form.

``VALUE_ACTIVATIONS[name]`` builds the graph node; ``FLOAT_SOURCE[name]`` is the same formula as a
Python expression in ``{z}``, which the float path (`nn.float_path`) writes into its compiled
layers. The two must give the same numbers; the tests compare them on every activation.
"""

import math

from autograd import Value

def sigmoid(z):
    """σ(z) on a float, never exponentiating a positive number, so it cannot overflow."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "linear")
LEAKY_SLOPE = 0.01  # the slope of leaky_relu for negative inputs (the engine's default)

VALUE_ACTIVATIONS = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "leaky_relu": lambda v: v.leaky_relu(LEAKY_SLOPE),
    "linear": None,
}

FLOAT_SOURCE = {
    "tanh": "tanh({z})",
    "relu": "{z} if {z} > 0.0 else 0.0",
    "sigmoid": "sigmoid({z})",
    "leaky_relu": "{z} if {z} > 0.0 else slope * {z}",
    "linear": "{z}",
}
FLOAT_NAMES = {"tanh": math.tanh, "sigmoid": sigmoid, "slope": LEAKY_SLOPE}  # what the sources use
