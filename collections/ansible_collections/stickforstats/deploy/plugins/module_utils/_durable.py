"""Files and links replaced so that a crash or a power cut leaves the old one or the new one.

A rename is atomic, but only durable once the directory holding it is synced:
each helper writes a temporary in the same directory, syncs it, renames it over
the target, then syncs the directory.
"""

from __future__ import annotations

import os
import secrets


def fsync_directory(path: str) -> None:
    """Syncs the directory PATH itself (its entries: renames, creations, removals)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_name(path: str) -> str:
    """A name beside PATH that no other writer picks: hidden, with pid and random part."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.new.{os.getpid()}.{secrets.token_hex(4)}")


def write_atomically(path: str, data: str | bytes, mode: int = 0o600) -> None:
    """Replaces the file PATH with DATA (text as UTF-8), mode MODE whatever the umask
    (owner only unless given: a manifest may name what failed).

    The old file stays whole until the rename; the temporary is removed on error."""
    tmp = _temporary_name(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_directory(os.path.dirname(os.path.abspath(path)))


def replace_symlink(link: str, target: str) -> bool:
    """Points the symlink LINK at TARGET (a new link renamed over it); False when it already does."""
    try:
        if os.readlink(link) == target:
            return False
    except OSError:
        pass
    tmp = _temporary_name(link)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_directory(os.path.dirname(os.path.abspath(link)))
    return True


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
