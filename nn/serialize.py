"""Saving and loading models as JSON: readable, diffable, and never pickle (loading a file cannot
run code).

A file holds the format name and version, the model's layout (``module.config()``) and every
parameter by its dotted name. ``save`` writes a temporary file next to the target and renames it
over the target, so a crash midway never leaves a half-written model. ``load_into`` checks the whole
file against the model before it changes anything: a wrong, truncated or mismatched file raises a
ValueError saying what is wrong, and the model stays exactly as it was.
"""

import errno
import json
import math
import numbers
import os
import secrets

FORMAT = "chainrule.nn"
VERSION = 1


def save(model, path):
    """Write ``model`` to ``path`` as JSON (atomically: a temporary file renamed over the target)."""
    path = os.fspath(path)
    state = model.state_dict()
    for name, value in state.items():
        if not math.isfinite(value):
            raise ValueError(f"cannot save: parameter {name} is {value} (training diverged?)")
    try:
        config = model.config()
    except NotImplementedError:
        config = None
    document = {"format": FORMAT, "version": VERSION, "model": config, "parameters": state}
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never reuse a file; mode 0o666 minus the umask, like any file the user writes
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _save_error(error, path, folder) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise _save_error(error, path, folder) from None
        raise


def _save_error(error, path, folder):
    """The OS error of a failed save, told about the user's path (not the temporary file)."""
    no_access = f"no permission to write in {folder}; choose a folder you can write to"
    reasons = {
        errno.ENOTDIR: f"part of the folder {folder} is a file, not a folder; choose another path",
        errno.EISDIR: f"{path} is a folder; add a file name, e.g. {os.path.join(path, 'model.json')}",
        errno.EACCES: no_access,
        errno.EPERM: no_access,
        errno.EROFS: f"{folder} is on a read-only file system; choose another folder",
        errno.ENOSPC: "the disk is full; free some space and save again",
        errno.ENAMETOOLONG: "the file name is too long; choose a shorter one",
    }
    if not os.path.isdir(folder):
        reasons[errno.ENOENT] = f"the folder {folder} does not exist; create it first (os.makedirs) or choose another folder"
    reason = reasons.get(error.errno) or error.strerror or str(error)
    message = f"cannot save the model to {path}: {reason}"
    return type(error)(error.errno, message) if error.errno is not None else type(error)(message)


def read(path):
    """The checked contents of a saved model file: ``(layout or None, {name: value})``."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a chainrule model file (it is not text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # a saved file is one object: an error at its end, or no closing brace, means it was cut short
        body = text.rstrip()
        truncated = error.pos >= len(body) or (body.startswith("{") and not body.endswith("}"))
        hint = " (the file looks truncated)" if truncated else ""
        raise ValueError(f"{path} is not valid JSON{hint}: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a chainrule model file (no \"format\": \"{FORMAT}\" in it)")
    if document.get("version") != VERSION:
        raise ValueError(f"{path} has format version {document.get('version')!r}; this version reads {VERSION}")
    state = document.get("parameters")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no \"parameters\" object")
    return document.get("model"), state


def load_into(model, path):
    """Set ``model``'s weights from a file written by ``save``; on any problem, change nothing."""
    config, state = read(path)
    try:
        own = model.config()
    except NotImplementedError:
        own = None
    if config is not None and own is not None and config != own:
        raise ValueError(f"{os.fspath(path)} holds a different model: {_describe(config)}, not {_describe(own)}")
    _load_state(model, state, os.fspath(path))


def load(path):
    """Rebuild a model from a file written by ``save`` (its layout and its weights)."""
    from .module import from_config

    config, state = read(path)
    if config is None:
        raise ValueError(f"{os.fspath(path)} does not describe its model's layout; build the model and use model.load(path)")
    try:
        model = from_config(config)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{os.fspath(path)} holds a model layout that cannot be built: {error}") from None
    _load_state(model, state, f"{os.fspath(path)}, whose layout is {_describe(config)}")
    return model


def _load_state(model, state, source):
    """``model.load_state_dict(state)``, its errors naming ``source``, the file the weights came from."""
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def check_state(model, state):
    """The values of ``state`` in the order of ``model.parameters()``, after checking every name and
    value; raises ValueError naming what is missing, extra or not a finite number."""
    if not isinstance(state, dict):
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
        value = state[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"parameter {name} must be a finite number, got {value!r}; nothing was loaded")
        values.append(float(value))
    return values


def _few(names, limit=3):
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _describe(config):
    """``MLP(nin=2, nouts=[16, 1], activation='tanh')`` from a layout (nested layouts by type only)."""
    if not isinstance(config, dict):
        return repr(config)
    args = []
    for key, value in config.items():
        if key == "type":
            continue
        if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
            value = [item.get("type") if isinstance(item, dict) else item for item in (value if isinstance(value, list) else [value])]
        args.append(f"{key}={value!r}")
    return f"{config.get('type')}({', '.join(args)})"
