"""Training steps on the compiled path, for `fit`, `train_step` and the playground's `Trainer`.

The loss of one example, ``loss_fn([model(x)], [target])``, is recorded once (`autograd.compiled`)
and runs as straight-line Python on floats for every example of a batch, its gradients adding up in
one list; the penalties (``l2``, ``l1``) are a second compiled function. The batch loss is the
mean of the examples' losses, so this holds for the built-in losses (and any loss function with the
attribute ``mean_over_examples = True``), and for any loss when a batch has one example. Targets
are inputs of the compiled code: numbers, and ints (class labels and token ids, which the losses
look up with `autograd.take`, or branch on). Training starts on the graph path and switches once
the time spent there would have paid for compiling (`autograd.compiled` with ``eager=False``).

The numbers are the graph path's: the examples are visited last to first and the penalties before
them, as ``backward()`` on the batch's graph visits them, so the gradients are the same to the last
bit (with Dropout active, first to last, so the masks come in the graph path's order). A model whose
forward the compiler cannot follow (it reads ``.data``, branches on values in too many ways, uses
an operation without a formula) trains on the graph path instead.
"""

import weakref

from autograd import CompileError, compiled

from . import losses as loss_functions
from .module import Dropout

_steps = weakref.WeakKeyDictionary()  # model -> {id(loss_fn): CompiledStep}
_SIMPLE = (str, int, float, bool, type(None))


def mean_over_examples(loss_fn):
    """Whether the batch loss of ``loss_fn`` is the mean of its per-example losses."""
    return loss_fn in _BUILT_IN or getattr(loss_fn, "mean_over_examples", False) is True


_BUILT_IN = frozenset(loss_functions.LOSSES.values())


class CompiledStep:
    """The compiled loss of one example of ``model`` under ``loss_fn`` (``example``), and its
    penalties."""

    def __init__(self, model, loss_fn):
        self.loss_fn = loss_fn
        self.params = model.parameters()
        self.name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        self.modules = list(model.modules())
        self.fingerprint = _fingerprint(self.modules)
        self.failure = None  # why this model trains on the graph path, once it is known
        self.forward_order = any(isinstance(m, Dropout) and m.training and m.p > 0.0 for m in model.modules())
        ref = weakref.ref(model)

        def example_loss(x, target):  # the graph path's batch, for a batch of one
            return loss_fn(ref().forward_batch([x]), [target])

        self.example = compiled(example_loss, wrt_inputs=False, eager=False)
        self.penalties = {}
        for p in self.params:
            self.example.slot(p)
        self._model = ref

    def penalty(self, l2, l1):
        key = (bool(l2), bool(l1))
        fn = self.penalties.get(key)
        if fn is None:
            ref = self._model

            def penalties(alpha2, alpha1):
                model = ref()
                terms = []
                if l2:
                    terms.append(loss_functions.l2(model, alpha2))
                if l1:
                    terms.append(loss_functions.l1(model, alpha1))
                return terms

            fn = self.penalties[key] = compiled(penalties, wrt_inputs=False)  # one call a step: compile at once
            for p in self.params:
                fn.slot(p)
        return fn

    def backward(self, X_batch, y_batch, l2=0.0, l1=0.0):
        """The batch loss (penalties included) as a float; each parameter's ``.grad`` gets its
        gradient added, as ``loss.backward()`` adds it."""
        values = self.example.leaf_values()  # the parameters first, then any other Value it reads
        grads = [0.0] * len(values)
        penalty = []
        if l2 or l1:
            penalty = self.penalty(l2, l1).run((float(l2), float(l1)), values, grads, [1.0] * (bool(l2) + bool(l1)))
        n = len(X_batch)
        seed = 1.0 / n
        run = self.example.run
        terms = [0.0] * n
        order = range(n) if self.forward_order else range(n - 1, -1, -1)
        for i in order:
            terms[i] = run((X_batch[i], y_batch[i]), values, grads, seed)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        value = total / n
        for term in penalty:
            value = value + term
        self.example.accumulate(grads)  # into each parameter's .grad (and any other Value it uses)
        return value


def _fingerprint(modules):
    """What the recorded graph depends on besides the parameters' values: the modules, their modes
    and settings, and which parameters and sub-modules they hold (a module replaced changes its
    parent's)."""
    parts = []
    for m in modules:
        items = []
        for key, value in vars(m).items():
            if isinstance(value, _SIMPLE):
                items.append((key, value))
            elif isinstance(value, (list, tuple)):
                items.append((key, id(value), len(value)))
            else:
                items.append((key, id(value)))
        parts.append((id(m), type(m), tuple(items)))
    return tuple(parts)


def steps(model):
    """The compiled steps `fit` and `train_step` made for ``model``, one per loss function; each
    step's ``example`` is the compiled loss of one example (``print(step.example.source)``)."""
    return list(_steps.get(model, {}).values())


def step_for(model, loss_fn, batch_size, required=False):
    """The `CompiledStep` to use for this model and loss, or None for the graph path (``required``
    raises a CompileError saying why instead)."""
    if batch_size != 1 and not mean_over_examples(loss_fn):
        if required:
            raise CompileError(
                f"compiled training needs a loss that is the mean of the examples' losses ({getattr(loss_fn, '__name__', loss_fn)!r} "
                "is not known to be; give it the attribute mean_over_examples = True if it is), or batches of one example"
            )
        return None
    per_model = _steps.get(model)
    if per_model is None:
        per_model = _steps[model] = {}
    step = per_model.get(id(loss_fn))
    if step is not None and (step.loss_fn is not loss_fn or step.fingerprint != _fingerprint(step.modules)):
        step = None  # another loss with a recycled id, or the model changed: record again
    if step is None:
        if len(per_model) >= 8:  # a loss made anew for every step (a lambda): keep only the latest
            per_model.clear()
        step = per_model[id(loss_fn)] = CompiledStep(model, loss_fn)
    if step.failure is not None:
        if required:
            raise CompileError(step.failure)
        return None
    return step


def expect(model, loss_fn, examples):
    """Announce the examples ``(x, target)`` that training steps of one example each will take (a
    plan, such as `nn.text.fit_text`'s): each kind of example (a sequence length) met often enough
    is then compiled after one step on the graph instead of after enough of them to pay for it."""
    step = step_for(model, loss_fn, 1)
    if step is None:
        return
    for x, target in examples:
        step.example.expect(x, target)


def backward(model, loss_fn, X_batch, y_batch, l2=0.0, l1=0.0, compiled=None):
    """Fill every parameter's ``.grad`` with the gradient of the batch loss (plus penalties) and
    return that loss as a float: on the compiled path when it applies (``compiled=None``: when
    possible; True: always, or a CompileError; False: never), else on the graph path."""
    if compiled is not False:
        step = step_for(model, loss_fn, len(X_batch), required=compiled is True)
        if step is not None:
            step.example.eager = compiled is True  # insisting: compile each kind at its first call
            try:
                return step.backward(X_batch, y_batch, l2, l1)
            except CompileError as error:
                step.failure = f"{type(model).__name__} trains on the graph path: {error}"
                if compiled is True:
                    raise CompileError(step.failure) from error
    total = loss_fn(model.forward_batch(X_batch), y_batch)
    if l2:
        total = total + loss_functions.l2(model, l2)
    if l1:
        total = total + loss_functions.l1(model, l1)
    total.backward()
    return total.data
