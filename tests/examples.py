"""Graphs the tests share: the engine demo's lecture expression, so the tests check what it shows."""

from autograd.__main__ import lecture_expression

__all__ = ["lecture_expression"]
