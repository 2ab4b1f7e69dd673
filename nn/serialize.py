"""Saving and loading models as JSON: readable, diffable, and never pickle (loading a file cannot
run code).

A file holds the format name and version, the model's layout (``module.config()``) and every
parameter by its dotted name.

- ``save`` writes with `autograd.files.write_atomic`: a temporary file next to the target, renamed
  over it, so a failed or interrupted save (full disk, no permission, Ctrl-C) leaves the old file
  intact. It writes where ``open(path, "w")`` would: through a symbolic link into the file it points
  to, keeping an existing file's permissions, for any name ``open`` accepts.
- ``load_into`` and ``load`` check the whole file before they change or build anything: a wrong,
  truncated, hostile or mismatched file raises a ValueError that names the file and says what is
  wrong, and the model stays exactly as it was. ``load`` checks that the layout has as many
  parameters as the file holds before it builds the model (every module type counts its own, see
  `nn.module.layout_size`), so a small file cannot make it allocate a huge one; a file larger than
  any model (`MAX_BYTES`, a device such as /dev/zero) is refused unread. A layout is compared with
  the model's once the settings it leaves out are filled in with their defaults, so a file saved
  before a setting existed still loads.
"""

import json
import math
import numbers
import os
from collections.abc import Mapping

from autograd.files import write_atomic
from .module import _short, same_layout

FORMAT = "chainrule.nn"
VERSION = 1
# A file larger than this is refused unread: about 2 million parameters at some 64 bytes each, twice
# the largest model `python -m nn` trains, where one step of a scalar engine already takes minutes.
MAX_BYTES = 128 * 2**20


def save(model, path):
    """Write ``model`` to ``path`` as JSON (atomically: a temporary file renamed over the target)."""
    path = os.fsdecode(os.fspath(path))
    state = {}
    for name, value in model.state_dict().items():
        number = _finite(value)
        if number is None:
            raise ValueError(f"cannot save: parameter {name} is {_short(value)} (training diverged?)")
        state[name] = number
    try:
        config = model.config()
    except NotImplementedError:
        config = None
    if config is not None and not _describes(config, len(state)):
        config = None  # weights shared between parts: a layout would rebuild them apart
    document = {"format": FORMAT, "version": VERSION, "model": config, "parameters": state}
    try:
        text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"cannot save: the model's layout from config() is not plain JSON ({error})") from None
    write_atomic(path, text, "the model", example="model.json")


def _describes(config, count):
    """Whether the layout ``config`` rebuilds a model of ``count`` parameters (not so for a model
    whose parts share weights, ``Sequential(layer, layer)``: the layout would build two layers)."""
    from .module import layout_size

    try:
        size = layout_size(config)
    except ValueError:
        return True  # not a layout nn can check: written as it is
    return size is None or size == count


def read(path):
    """The checked contents of a saved model file: ``(layout or None, {name: value})``."""
    path = os.fsdecode(os.fspath(path))
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size  # 0 for a device or a pipe, which is read up to the limit
        data = _read_at_most(f, MAX_BYTES) if size <= MAX_BYTES else None
    if data is None:
        what = f"{size:,} bytes" if size > MAX_BYTES else f"more than {MAX_BYTES:,} bytes"
        raise ValueError(
            f"{path} holds {what}, more than any model file chainrule writes (at most {MAX_BYTES:,} bytes, "
            f"about {MAX_BYTES // 64:,} parameters); it was not read"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a chainrule model file (it is not text)") from None
    try:
        document = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as error:
        # a saved file is one object: an error at its end, or no closing brace, means it was cut short
        body = text.rstrip()
        truncated = error.pos >= len(body) or (body.startswith("{") and not body.endswith("}"))
        hint = " (the file looks truncated)" if truncated else ""
        raise ValueError(f"{path} is not valid JSON{hint}: {error}") from None
    except _TooLong as error:
        raise ValueError(f"{path} is not a chainrule model file: it holds {error}") from None
    except RecursionError:
        raise ValueError(f"{path} is not a chainrule model file: its JSON is nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a chainrule model file (no \"format\": \"{FORMAT}\" in it)")
    version = document.get("version")
    if type(version) is not int or version != VERSION:  # not True, not 1.0: the number 1
        raise ValueError(f"{path} has format version {_short(version)}; this version reads {VERSION}")
    state = document.get("parameters")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no \"parameters\" object")
    return document.get("model"), state


def _read_at_most(f, limit, chunk=2**16):
    """The file's bytes, or None if it holds more than ``limit`` (read in pieces: no buffer of
    ``limit`` bytes is set aside for a small file)."""
    parts, total = [], 0
    while True:
        part = f.read(min(chunk, limit + 1 - total))
        if not part:
            return b"".join(parts)
        total += len(part)
        if total > limit:
            return None
        parts.append(part)


class _TooLong(Exception):
    pass


def _json_int(text):
    """An integer of the file; one longer than any float (10**309) is refused before Python's
    int-from-text limit (4,300 digits) is reached, or the time a longer one takes."""
    digits = len(text) - text.startswith("-")
    if digits > 309:
        raise _TooLong(f"an integer of {digits} digits, too large for a float")
    return int(text)


def load_into(model, path):
    """Set ``model``'s weights from a file written by ``save``; on any problem, change nothing."""
    path = os.fsdecode(os.fspath(path))
    config, state = read(path)
    try:
        own = model.config()
    except NotImplementedError:
        own = None
    if config is not None and own is not None and not same_layout(config, own):
        raise ValueError(f"{path} holds a different model: {_describe(config)}, not {_describe(own)}")
    _load_state(model, state, path)


def load(path):
    """Rebuild a model from a file written by ``save`` (its layout and its weights).

    The layout is checked first, and must have exactly as many parameters as the file holds:
    nothing is built for a file that does not hold the model it describes."""
    from .module import from_config, layout_size

    path = os.fsdecode(os.fspath(path))
    config, state = read(path)
    if config is None:
        raise ValueError(
            f"{path} does not describe its model's layout (a class without config(), or parts that share weights); "
            "build the model and use model.load(path)"
        )
    try:
        size = layout_size(config)
    except ValueError as error:
        raise ValueError(f"{path} holds a model layout that cannot be built: {error}") from None
    if size is None:  # a registered module that cannot count its parameters: no size beyond the weights held
        largest = _largest_int(config)
        if largest > len(state):
            raise ValueError(
                f"{path} describes {_describe(config)} with a size of {largest}, more than the {len(state)} weights "
                "it holds; nothing was built"
            )
    elif size != len(state):
        raise ValueError(
            f"{path} describes {_describe(config)} with {size} parameters, but holds {len(state)}; nothing was built"
        )
    try:
        model = from_config(config)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path} holds a model layout that cannot be built: {error}") from None
    _load_state(model, state, f"{path}, whose layout is {_describe(config)}")
    return model


def _largest_int(layout):
    """The largest int anywhere in a layout (0 if none)."""
    largest, stack = 0, [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            largest = max(largest, abs(item))
    return largest


def _load_state(model, state, source):
    """``model.load_state_dict(state)``, its errors naming ``source``, the file the weights came from."""
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def check_state(model, state):
    """The values of ``state`` in the order of ``model.parameters()``, after checking every name and
    value; raises ValueError naming what is missing, extra or not a finite number."""
    if not isinstance(state, Mapping):
        raise ValueError(f"a state dict must be a dict of name -> number, got {type(state).__name__}")
    names = [name for name, _ in model.named_parameters()]
    missing = [name for name in names if name not in state]
    expected = set(names)
    unexpected = [name for name in state if name not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} parameter(s): {_few(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unknown parameter(s): {_few(unexpected)}")
        raise ValueError(f"the weights do not fit this model ({'; '.join(parts)}); nothing was loaded")
    values = []
    for name in names:
        value = _finite(state[name])
        if value is None:
            raise ValueError(f"parameter {name} must be a finite number, got {_short(state[name])}; nothing was loaded")
        values.append(value)
    return values


def _finite(value):
    """``value`` as a finite float (a NumPy number too), or None if it is not one (a bool, a str,
    inf, nan, an int too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return number if math.isfinite(number) else None


def _few(names, limit=3):
    shown = ", ".join(_short(name) if not isinstance(name, str) else name for name in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _describe(config):
    """``MLP(nin=2, nouts=[16, 1], activation='tanh')`` from a layout (nested layouts by type only)."""
    if not isinstance(config, dict):
        return _short(config)
    args = []
    for key, value in config.items():
        if key == "type":
            continue
        if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
            value = [item.get("type") if isinstance(item, dict) else item for item in (value if isinstance(value, list) else [value])]
        args.append(f"{_short(key)}={_short(value)}" if not isinstance(key, str) else f"{key}={_short(value)}")
    kind = config.get("type")
    return f"{kind if isinstance(kind, str) else _short(kind)}({', '.join(args)})"
