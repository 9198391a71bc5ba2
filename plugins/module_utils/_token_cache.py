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
import os
import time

from ansible_collections.secops.defender.plugins.module_utils._state_file import (
    exclusive,
    private_dir,
    read_json,
    write_json,
)

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

    @contextlib.contextmanager
    def locked(self):
        """Hold an exclusive lock across read-fetch-write, so parallel tasks sign in once."""
        with exclusive(os.path.join(private_dir(self.directory), "tokens.lock")):
            yield self

    def _read_all(self):
        return read_json(self.path)

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
        write_json(os.path.join(private_dir(self.directory), "tokens.json"), data)
