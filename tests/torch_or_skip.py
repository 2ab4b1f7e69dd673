"""PyTorch for parity tests: imported when installed, otherwise the test skips and says why.

CI installs torch==2.13.0 before running the suite, so there these tests always run.
"""

import pytest


def torch_or_skip():
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")
