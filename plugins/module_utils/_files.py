# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: safe local file names, and atomic, streamed writes with hashing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import os
import re
import shutil
import tempfile

GZIP_MAGIC = b"\x1f\x8b"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def safe_name(remote_path, taken=(), directory=None):
    """A local file name from a remote Windows or POSIX path: the base name only, no separators, no traversal,
    no hidden or reserved names; `-1`, `-2`... when the name is taken or already exists in `directory`."""
    base = re.split(r"[\\/]", remote_path or "")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in (".", "..") or _RESERVED.match(base):
        base = "file_" + (base or "download")
    base = base.lstrip(".") or "download"
    base = base[:200]
    stem, ext = os.path.splitext(base)
    candidate, counter = base, 0
    # Compared without case, so two names can't collide on a case-insensitive file system either.
    lowered = set(t.lower() for t in taken)
    if directory and os.path.isdir(directory):
        lowered.update(n.lower() for n in os.listdir(directory))
    while candidate.lower() in lowered:
        counter += 1
        candidate = "%s-%d%s" % (stem, counter, ext)
    return candidate


class AtomicWriter:
    """Write to a temporary file beside the destination, then rename, so a reader never sees half a file.

    Bytes written through `write()` are hashed on the way, so a gigabyte download is never read back to be
    hashed. After commit_unpacked(), `sha256` and `size` describe the committed file."""

    def __init__(self, directory, name):
        self.directory = directory
        self.final_path = os.path.join(directory, name)
        fd, self.tmp_path = tempfile.mkstemp(dir=directory, prefix=".%s." % name[:50], suffix=".part")
        self.handle = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self._hash.update(data)
        self.size += len(data)
        return self.handle.write(data)

    @property
    def sha256(self):
        return self._hash.hexdigest()

    def commit(self):
        if not self.handle.closed:
            self.handle.close()
        os.rename(self.tmp_path, self.final_path)
        return self.final_path

    def abort(self):
        if not self.handle.closed:
            self.handle.close()
        if os.path.exists(self.tmp_path):
            os.unlink(self.tmp_path)


class AttemptWriters:
    """The handle factory of a download that may be tried more than once: each call starts a fresh AtomicWriter
    for `directory/name` and throws away the one before, so a failed attempt leaves nothing behind."""

    def __init__(self, directory, name):
        self.directory = directory
        self.name = name
        self.last = None

    def __call__(self):
        self.abort()
        self.last = AtomicWriter(self.directory, self.name)
        return self.last

    def abort(self):
        if self.last is not None:
            self.last.abort()


def commit_unpacked(writer, chunk_size=1024 * 1024):
    """Commit a finished download under its final name, unpacked first if it is gzip (peers and the emulator
    serve GetFile results compressed). Returns True if it was unpacked. Memory stays bounded by chunk_size."""
    writer.handle.close()
    with open(writer.tmp_path, "rb") as handle:
        packed = handle.read(2) == GZIP_MAGIC
    if not packed:
        writer.commit()
        return False
    unpacked = AtomicWriter(writer.directory, os.path.basename(writer.final_path))
    try:
        with gzip.open(writer.tmp_path, "rb") as source:
            shutil.copyfileobj(source, unpacked, chunk_size)
        unpacked.commit()
    except Exception:
        unpacked.abort()
        raise
    finally:
        writer.abort()
    # The original writer now describes what was committed: the unpacked content.
    writer._hash, writer.size = unpacked._hash, unpacked.size
    return True


def digest(path, chunk_size=1024 * 1024):
    sha256, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            sha256.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), size


def write_json(directory, name, data):
    """Write `data` as pretty JSON into directory/name atomically (mode 0640). Returns the path."""
    import json
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o750, exist_ok=True)
    writer = AtomicWriter(directory, name)
    try:
        writer.write((json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        os.chmod(writer.tmp_path, 0o640)
        return writer.commit()
    except Exception:
        writer.abort()
        raise
