"""Writing a file whole or not at all: `write_atomic`, which every save in chainrule goes through.

A save that fails (a full disk, no permission, text that cannot be encoded, Ctrl-C) must leave the
old file exactly as it was. So the new contents are written to a temporary file next to the target
and renamed over it: a reader sees the old file or the new one, never a part of either.
"""

import errno
import os
import secrets
import stat

from .interrupts import deferred_interrupts

__all__ = ["write_atomic"]

_TEMPORARY_PREFIX = 20  # characters of the file name kept in the temporary name (which must fit NAME_MAX)


def write_atomic(path, data, what="the file", *, example=None, encoding="utf-8"):
    """Put ``data`` (str, written as ``encoding``, or bytes) into the file ``path`` names: all of it
    or none of it.

    It writes where ``open(path, "w")`` would: through a symbolic link into the file it points to,
    keeping an existing file's permissions (and owner, where allowed), for any name ``open``
    accepts; a pipe or a device is written into. A failure raises the OS error (or a ValueError for
    text that cannot be encoded) with a message that starts ``cannot save {what} to {path}:`` and
    says what to do; ``example`` (a file name such as ``'model.json'``) completes the hint when
    ``path`` is a folder.
    """
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"cannot save {what}: the path must be a file name (str or Path), got "
                        f"{type(path).__name__}") from None
    if not path:
        raise FileNotFoundError(errno.ENOENT, f"cannot save {what}: the path is empty; give a file name")
    if isinstance(data, str):
        try:
            data = data.encode(encoding)
        except UnicodeEncodeError as error:
            bad = error.object[error.start:error.end]
            raise ValueError(f"cannot save {what} to {path}: its text holds {bad!r} (at character {error.start}), "
                             f"which {encoding} cannot write; nothing was written") from None
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError(f"cannot save {what} to {path}: the data must be str or bytes, got {type(data).__name__}")
    target = path
    if os.path.islink(path):  # write into the file the link points to, as open() does
        target = os.path.realpath(path)
        if os.path.islink(target):
            raise OSError(errno.ELOOP, f"cannot save {what} to {path}: the symbolic link goes round in a loop")
    folder, name = os.path.split(target)
    folder = folder or os.curdir
    temporary = f".{name[:_TEMPORARY_PREFIX]}.{secrets.token_hex(4)}.tmp"
    # Names relative to the opened folder: the temporary path is never longer than the user's.
    relative = os.open in os.supports_dir_fd and os.replace in os.supports_dir_fd
    folder_fd = None
    f = None
    try:
        if relative:
            folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        else:
            name, temporary = target, os.path.join(folder, temporary)
        if not name:  # "folder/": no file name at all
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        try:
            existing = os.stat(name, dir_fd=folder_fd)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            with open(target, "wb") as pipe:  # a device or a pipe: written into, not replaced
                pipe.write(data)
            return
        if existing is not None and not os.access(name, os.W_OK, dir_fd=folder_fd):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)  # open() would refuse it too

        def opener(file, flags):  # "x": a new file, never one that exists; 0o666 minus the umask
            return os.open(file, flags, 0o666, dir_fd=folder_fd)

        with deferred_interrupts():  # no Ctrl-C between creating the file and holding it in f
            f = open(temporary, "xb", opener=opener)
        if existing is not None:  # the new file keeps the old one's permissions (and owner, if allowed)
            os.fchmod(f.fileno(), stat.S_IMODE(existing.st_mode))
            if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
                try:
                    os.fchown(f.fileno(), existing.st_uid, existing.st_gid)
                except OSError:
                    pass
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        f = None  # renamed: nothing to clean up
        if folder_fd is not None:
            try:
                os.fsync(folder_fd)  # the rename itself reaches the disk
            except OSError:
                pass
    except BaseException as error:
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
            try:
                os.unlink(temporary, dir_fd=folder_fd)
            except OSError:
                pass
        if isinstance(error, OSError):
            raise _save_error(error, what, path, target, folder, example) from None
        raise
    finally:
        if folder_fd is not None:
            os.close(folder_fd)


def _save_error(error, what, path, target, folder, example):
    """The OS error of a failed save, told about the user's path (not the temporary file)."""
    no_access = f"no permission to write in {folder}; choose a folder you can write to"
    a_name = f"add a file name, e.g. {os.path.join(path, example)}" if example else "add a file name to the path"
    reasons = {
        errno.ENOTDIR: f"part of the folder {folder} is a file, not a folder; choose another path",
        errno.EISDIR: f"{target} is a folder; {a_name}",
        errno.EACCES: no_access,
        errno.EPERM: no_access,
        errno.EROFS: f"{folder} is on a read-only file system; choose another folder",
        errno.ENOSPC: "the disk is full; free some space and save again",
        errno.EDQUOT: "the disk quota is used up; free some space and save again",
        errno.EFBIG: "the file would be larger than this process may write (a file size limit); raise the limit",
        errno.ENAMETOOLONG: "the file name is too long; choose a shorter one",
    }
    if not os.path.isdir(folder):
        reasons[errno.ENOENT] = f"the folder {folder} does not exist; create it first (os.makedirs) or choose another folder"
    if error.filename == target:  # the existing file is read-only
        reasons[errno.EACCES] = f"{target} is read-only; make it writable or choose another name"
    reason = reasons.get(error.errno) or error.strerror or str(error)
    message = f"cannot save {what} to {path}: {reason}"
    return type(error)(error.errno, message) if error.errno is not None else type(error)(message)
