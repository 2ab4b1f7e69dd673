"""A tiny tour of the engine: build an expression, run backward, print every gradient."""

from autograd import Value, topological_order


def lecture_expression():
    """L = (a*b + c) * f from the lecture, every node labelled; a dict by label."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return dict(a=a, b=b, c=c, f=f, e=e, d=d, L=L)


def main():
    L = lecture_expression()["L"]
    L.backward()
    print("L = (a*b + c) * f")
    for node in topological_order(L):
        if node.label:
            print(f"  {node.label:>2} = {node.data:8.4f}    dL/d{node.label} = {node.grad:8.4f}")


if __name__ == "__main__":
    main()
