"""Changes that happen whole or not at all, even when Ctrl-C arrives in the middle.

An optimizer step, a load or a backward pass computes every new value first (an interrupt there
changes nothing, or is undone), then commits them inside ``deferred_interrupts()``: a Ctrl-C that
arrives during the commit is held until the commit is done and delivered right after it. So a model
and its optimizer are always at a step boundary, a model is never half loaded, and gradients are
never half added.
"""

import signal
import threading


class deferred_interrupts:
    """``with deferred_interrupts(): ...`` runs the block whole, then delivers any Ctrl-C (SIGINT)
    that arrived meanwhile, exactly as it would have been delivered without the block.

    Only the main thread receives SIGINT, so elsewhere (and where Python cannot set a handler) the
    block simply runs.
    """

    __slots__ = ("_previous", "_held")

    def __enter__(self):
        self._previous = None
        self._held = False
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if previous is None:  # a handler installed outside Python: it cannot be put back
            return self
        try:
            signal.signal(signal.SIGINT, self._hold)
        except (ValueError, OSError):  # not the main interpreter
            return self
        self._previous = previous
        return self

    def _hold(self, signum, frame):
        self._held = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
            if self._held:
                signal.raise_signal(signal.SIGINT)  # now the usual handler: KeyboardInterrupt
        return False
