# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: safe local file names, and atomic, streamed writes with hashing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import gzip
import hashlib
import os
import queue
import re
import shutil
import tempfile
import threading
import zlib

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._validate import api_machine_id

GZIP_MAGIC = b"\x1f\x8b"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
# Windows reserves these device names with any extension, and ignores spaces before the dot ("CON .txt").
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin|conout|clock)[ .]*(\..*)?$", re.IGNORECASE)
# How many taken names a commit steps over before it gives up (a folder filled on purpose).
MAX_CLAIM_ATTEMPTS = 1000
# The characters of the machine id a device's folder name carries (48 bits: no accidental collision).
FOLDER_ID_CHARS = 12
# What one write to disk, one inflate step or one read of a file to hash handles at most: large enough that Python's
# per-call cost vanishes next to the disk's, small enough to stay in the CPU's cache from one step to the next (the
# unpacked piece is hashed, then written) and to be allocated again from the heap's free memory, not from fresh pages
# (see DOWNLOAD_CHUNK in _downloads), and a download's memory stays a few of them.
CHUNK = 1024 * 1024
# A piece written of at least this size is hashed on a thread of its own, beside its unpacking and its write (hashlib,
# zlib and file writes let go of the GIL): with cores to spare, a large download then goes at the pace of its slowest
# step (MD5 of what arrives, or SHA-256 of what is written), not of SHA-256, unpacking and writing in a row. A small
# write (a manifest) is hashed inline, with no thread.
HASH_BESIDE = 256 * 1024


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


def device_folder(name, machine_id, id_chars=FOLDER_ID_CHARS):
    """A device's folder name, `<safe name>-<first 12 of its id>`: two devices never share one, whatever their
    names (one name re-onboarded as two devices, or names made to collide once made safe)."""
    machine_id = api_machine_id(machine_id, "machineId")
    base = safe_name(name) if name else "device"
    return "%s-%s" % (base[:200], machine_id[:id_chars])


def inside(root, path):
    """`path`, once resolved, lies within `root`: no name, id or symlink can lead a write elsewhere."""
    root, target = os.path.realpath(root), os.path.realpath(path)
    if os.path.commonpath([root, target]) != root:
        raise DefenderInputError("Refusing to write %s: it resolves outside dest %s." % (path, root),
                                 hint="Check dest for symbolic links; nothing was written.")
    return path


def claim(source, final):
    """Give `source` the name `final` only if nothing has it: FileExistsError otherwise, so two writers can never
    replace each other's file. A hard link is atomic; where links are not supported, an exclusive create reserves
    the name first."""
    try:
        os.link(source, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV,
                             errno.ENOSYS):
            raise
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.rename(source, final)
        return
    os.unlink(source)


class AtomicWriter:
    """Write to a temporary file beside the destination, then rename, so a reader never sees half a file.

    Bytes written through `write()` are hashed on the way, so a gigabyte download is never read back to be
    hashed. With `inflate`, a stream that starts as gzip is unpacked as it arrives (GetFile results come
    compressed): only the unpacked file is written and hashed, and commit_unpacked() checks that the stream ended
    whole. After commit_unpacked(), `sha256` and `size` describe the committed file."""

    def __init__(self, directory, name, inflate=False):
        self.directory = directory
        self.final_path = os.path.join(directory, name)
        self.wanted = name
        fd, self.tmp_path = tempfile.mkstemp(dir=directory, prefix=".%s." % name[:50], suffix=".part")
        self.handle = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._hasher = None  # the Beside that hashes large pieces, until the hash is asked for
        self.size = 0
        self.received = 0
        self._inflate = inflate
        self.gunzip = None  # the _Gunzip of a stream being unpacked as it arrives

    def write(self, data):
        if self._inflate and not self.received and data[:2] == GZIP_MAGIC:
            self.gunzip = _Gunzip()
        self.received += len(data)
        if self.gunzip is None:
            self._put(data)
        else:
            for piece in self.gunzip.feed(data):
                self._put(piece)
        return len(data)

    def _put(self, data):
        # Only bytes go to the thread: it hashes them after write() has returned, and bytes cannot change by then.
        if self._hasher is None and isinstance(data, bytes) and len(data) >= HASH_BESIDE:
            self._hasher = Beside(self._hash.update)
        if self._hasher is not None and isinstance(data, bytes):
            self._hasher.put(data)
        else:
            self._hashed()  # what the thread holds comes first
            self._hash.update(data)
        self.size += len(data)
        self.handle.write(data)

    def _hashed(self):
        """Wait until every byte written is in the hash; a later write is hashed inline, after them."""
        hasher, self._hasher = self._hasher, None
        if hasher is not None:
            hasher.close()
            hasher.raise_error()

    @property
    def sha256(self):
        self._hashed()
        return self._hash.hexdigest()

    def commit(self, replace=False):
        """Put the file in place and return its path. Unless `replace`, an existing file is never replaced: the
        next free name (`-1`, `-2`...) is claimed instead, and `final_path` says which."""
        self._hashed()
        if not self.handle.closed:
            self.handle.close()
        if replace:
            os.rename(self.tmp_path, self.final_path)
            return self.final_path
        for _attempt in range(MAX_CLAIM_ATTEMPTS):
            try:
                claim(self.tmp_path, self.final_path)
                return self.final_path
            except FileExistsError:
                name = safe_name(self.wanted, directory=self.directory)
                self.final_path = os.path.join(self.directory, name)
        self.abort()
        raise DefenderInputError("No free name for %s in %s after %d attempts." % (
            os.path.basename(self.final_path), self.directory, MAX_CLAIM_ATTEMPTS))

    def abort(self):
        hasher, self._hasher = self._hasher, None
        if hasher is not None:
            hasher.close()  # its thread ends; what it hashed goes with the file
        if not self.handle.closed:
            self.handle.close()
        if os.path.exists(self.tmp_path):
            os.unlink(self.tmp_path)


class AttemptWriters:
    """The handle factory of a download that may be tried more than once: each call starts a fresh AtomicWriter
    for `directory/name` and throws away the one before, so a failed attempt leaves nothing behind."""

    def __init__(self, directory, name, inflate=False):
        self.directory = directory
        self.name = name
        self.inflate = inflate
        self.last = None

    def __call__(self):
        self.abort()
        self.last = AtomicWriter(self.directory, self.name, inflate=self.inflate)
        return self.last

    def abort(self):
        if self.last is not None:
            self.last.abort()


class Beside:
    """Run `work(chunk)` on each chunk in a thread of its own, a few chunks behind the caller at most (so memory
    stays a few chunks), or in the caller's thread when `threaded` is false. The first error stops the work and is
    raised by put() and raise_error(), as it would have been raised inline."""

    DEPTH = 1

    def __init__(self, work, threaded=True):
        self._work = work
        self._error = None
        self._queue = queue.Queue(self.DEPTH) if threaded else None
        self._thread = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="secops-download")
            self._thread.daemon = True
            self._thread.start()

    def _run(self):
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if self._error is None:
                try:
                    self._work(chunk)
                except Exception as exc:  # pylint: disable=broad-except  # raised in the caller's thread
                    self._error = exc

    def put(self, chunk):
        self.raise_error()
        if self._queue is None:
            self._work(chunk)
        else:
            self._queue.put(chunk)

    def close(self):
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def raise_error(self):
        if self._error is not None:
            raise self._error


class _Gunzip:
    """Gzip members inflated as they arrive, in pieces of CHUNK at most (a small bomb never becomes a large
    buffer). zlib checks each member's CRC-32 and length, as gzip.open does; zero padding between members is
    allowed, as gzip.open allows it. A stream that does not decode keeps its error for finish()."""

    def __init__(self):
        self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.error = None

    def feed(self, data):
        while data and self.error is None:
            if self._member is None:  # between members
                data = data.lstrip(b"\0")
                if not data:
                    return
                self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = self._member.decompress(data, CHUNK)
            except zlib.error as exc:
                self.error = exc
                return
            if piece:
                yield piece
            if self._member.eof:
                data, self._member = self._member.unused_data, None
            else:
                data = self._member.unconsumed_tail

    def finish(self):
        """Raise what gzip.open would have raised for this stream: zlib.error, or EOFError when it is cut short."""
        if self.error is not None:
            raise self.error
        if self._member is not None:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")


def commit_unpacked(writer, chunk_size=CHUNK):
    """Commit a finished download under its final name, unpacked first if it is gzip (peers and the emulator
    serve GetFile results compressed). Returns True if it was unpacked. Memory stays bounded by chunk_size.

    A writer that unpacked as it went (inflate) only checks that its stream ended whole; any other is unpacked
    from its file here."""
    writer.handle.close()
    if writer.gunzip is not None:
        try:
            writer.gunzip.finish()
        except Exception:
            writer.abort()
            raise
        writer.commit()
        return True
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
    # The original writer now describes what was committed: the unpacked content, under the name it claimed.
    writer._hash, writer.size, writer.final_path = unpacked._hash, unpacked.size, unpacked.final_path
    return True


def digest(path, chunk_size=CHUNK):
    sha256, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            sha256.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), size


def write_json(directory, name, data):
    """Write `data` as pretty JSON into directory/name atomically (mode 0640), replacing an earlier version (a
    manifest written again for the same session). Returns the path."""
    import json
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o750, exist_ok=True)
    writer = AtomicWriter(directory, name)
    try:
        writer.write((json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        os.chmod(writer.tmp_path, 0o640)
        return writer.commit(replace=True)
    except Exception:
        writer.abort()
        raise
