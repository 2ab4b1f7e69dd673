"""Graphs the tests share."""

from autograd import Value


def lecture_expression():
    """L = (a*b + c) * f from the lecture, every node labelled; a dict by label."""
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return dict(a=a, b=b, c=c, f=f, e=e, d=d, L=L)
