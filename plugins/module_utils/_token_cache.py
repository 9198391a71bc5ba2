# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: a per-user file cache of access tokens, shared by the tasks of a play.

Each task is a new process, so without this every task would sign in again. The folder is 0700 and the file 0600;
it holds access tokens only (never secrets), keyed by a hash of authority, tenant, client, scope and a fingerprint
of the credential. A lock file makes parallel forks wait for one sign-in instead of each doing their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import hashlib
import json
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

# A cached token is used only while it has at least this much life left.
MIN_REMAINING_SECONDS = 300


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "secops.defender")


def cache_key(authority, tenant_id, client_id, scope, credential_fingerprint):
    raw = "\n".join([authority or "", tenant_id or "", client_id or "", scope or "", credential_fingerprint or ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class TokenCache:
    def __init__(self, directory=None):
        self.directory = directory or default_cache_dir()
        self.path = os.path.join(self.directory, "tokens.json")

    def _ensure_dir(self):
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        # Tighten a folder someone else created with looser modes.
        if os.stat(self.directory).st_mode & 0o077:
            os.chmod(self.directory, 0o700)

    @contextlib.contextmanager
    def locked(self):
        """Hold an exclusive lock across read-fetch-write, so parallel tasks sign in once."""
        self._ensure_dir()
        fd = os.open(os.path.join(self.directory, "tokens.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield self
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_all(self):
        try:
            with open(self.path, "r") as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {}
        except (IOError, OSError, ValueError):
            return {}

    def get(self, key, now=None):
        now = time.time() if now is None else now
        entry = self._read_all().get(key)
        if not isinstance(entry, dict) or entry.get("expires_on", 0) - now < MIN_REMAINING_SECONDS:
            return None
        return entry.get("access_token")

    def peek(self, key):
        """The cached token for `key` however old it is, or None."""
        entry = self._read_all().get(key)
        return entry.get("access_token") if isinstance(entry, dict) else None

    def put(self, key, access_token, expires_on, now=None):
        now = time.time() if now is None else now
        data = dict((k, v) for k, v in self._read_all().items()
                    if isinstance(v, dict) and v.get("expires_on", 0) > now)
        data[key] = {"access_token": access_token, "expires_on": expires_on}
        self._write_all(data)

    def _write_all(self, data):
        """Write atomically, born 0600, so no reader ever sees a partial or world-readable file."""
        self._ensure_dir()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tokens-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
            os.rename(tmp, self.path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
