# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the local state files (token cache, rate budget, submit locks, EDA checkpoint).

One way to do each of the three things they all need:
- a private folder (0700, tightened when someone else made it looser);
- an exclusive lock held across read-change-write, by every process and thread of the controller, on a lock file
  that may be removed (pruned) by another process at any time;
- JSON read forgivingly (a missing or torn file is the default) and written atomically, born 0600, so no reader ever
  sees a partial or world-readable file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import tempfile

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


def private_dir(directory):
    """Create `directory` (0700) if need be, and tighten one someone else created with looser modes."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.stat(directory).st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


@contextlib.contextmanager
def exclusive(path):
    """Hold an exclusive lock on the file `path` (created 0600); yields its open descriptor.

    A lock file may be pruned (unlinked) while a process waits on it. After taking the lock, the path must still name
    the same file; if not, the lock is on a file nobody else will ever lock again, so it is taken anew on the path's
    current file."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # pruned meanwhile: take the lock on the file that is there now
    try:
        yield fd
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_if_idle(path, older_than):
    """Unlink the lock file `path` if nobody holds it and it was last written before `older_than` (epoch seconds).
    Returns whether it was removed. Done under the file's own lock, so no holder loses it (see exclusive())."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held right now: in use
                return False
        if not _same_file(fd, path) or os.fstat(fd).st_mtime >= older_than:
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing also lets go of the lock


def _same_file(fd, path):
    try:
        current = os.stat(path)
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


def read_json(path, default=None):
    """The JSON object in `path`, or `default` (a new empty dict) when it is missing, unreadable or not an object."""
    try:
        with open(path, "r") as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        data = None
    if isinstance(data, dict):
        return data
    return {} if default is None else default


def write_json(path, data, mode=0o600, **dump_kwargs):
    """Write `data` as JSON into `path` atomically: a temporary file in the same folder, born `mode`, renamed over
    the old one. Nothing partial is ever left behind."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, **dump_kwargs)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
