"""Files that are whole or absent.

Everything Kiln writes for a user (images, animations, video, audio, checkpoints, LoRAs, latents, user data,
uploads) goes through here: the bytes go to a hidden temporary name in the target's own folder, are flushed to
the disk, and only then is the temporary file renamed over the target. A reader (the gallery, `/view`, a sync
tool) therefore sees the old file or the new one, never half of one; a failed write removes its temporary file,
so nothing is left behind and the `_00001_` counters, which count the files present, do not advance.

A full disk is reported as DiskFullError, which names the folder that is full.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

_OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class DiskFullError(OSError):
    """A write failed because the folder's file system (or the user's quota there) is full."""


def temporary_sibling(path: str) -> str:
    """A hidden name beside `path` that keeps its extension (libraries pick the format by it): no counter pattern
    or file listing matches it."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.{secrets.token_hex(6)}.partial{extension}")


def _sync(path: str) -> None:
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


def _out_of_space(error: OSError, path: str) -> DiskFullError:
    folder = os.path.dirname(os.path.abspath(path))
    return DiskFullError(error.errno, f"No space left in the folder {folder}: {os.path.basename(path)} was not "
                                      f"written ({os.strerror(error.errno)}). Free space there and run it again.")


@contextmanager
def whole_file(path: str) -> Iterator[str]:
    """A temporary path to write the file at `path` under, for writers that want a path (PIL, PyAV,
    safetensors). When the block ends normally the file is flushed to disk and renamed to `path` (replacing a
    file, or a symlink, there); when it raises, the temporary file is removed. ENOSPC and the like become
    DiskFullError naming the folder."""
    partial = temporary_sibling(path)
    try:
        yield partial
        _sync(partial)
        os.replace(partial, path)
    except BaseException as error:
        if os.path.lexists(partial):
            os.remove(partial)
        if isinstance(error, OSError) and not isinstance(error, DiskFullError) and error.errno in _OUT_OF_SPACE:
            raise _out_of_space(error, path) from error
        raise


def write_whole(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write the file at `path` through `write(stream)` (a new binary stream), whole or not at all."""
    with whole_file(path) as partial:
        with open(partial, "xb") as stream:
            write(stream)


def write_bytes_whole(path: str, data: bytes) -> None:
    """Write `data` to `path`, whole or not at all."""
    write_whole(path, lambda stream: stream.write(data))


def write_bytes_new(folder: str, names: Iterable[str], data: bytes) -> str:
    """Write `data`, whole, under the first of `names` not taken in `folder` (an existing file is never
    replaced, even by a racing writer: the finished file is hard-linked to its name); the name used."""
    partial = temporary_sibling(os.path.join(folder, "new"))
    try:
        with open(partial, "xb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        for name in names:
            try:
                os.link(partial, os.path.join(folder, name))
                return name
            except FileExistsError:
                continue
        raise FileExistsError(f"no free name left in {folder}")
    except OSError as error:
        if not isinstance(error, DiskFullError) and error.errno in _OUT_OF_SPACE:
            raise _out_of_space(error, os.path.join(folder, "new")) from error
        raise
    finally:
        if os.path.lexists(partial):
            os.remove(partial)
