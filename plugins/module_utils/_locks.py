# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: per-device submission locks with a journal, shared by every process.

Thirty forks asked to quarantine the same file on the same device all look for an equal action at about the same
moment, find none, and would all submit. Each submission therefore holds a lock for (tenant, app, API host, device,
action type, what makes it equal) and writes the action it created into the lock file before letting go. The next
holder reads it: an action recorded after its own look-up started is one its look-up could not have seen, so it
reports that action instead of sending another.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import hashlib
import json
import os
import time

from ansible_collections.secops.defender.plugins.module_utils._state_file import (
    exclusive,
    private_dir,
    remove_if_idle,
)

# How long a journal entry can matter: only to a task whose look-up started before the entry was written and that
# still had to submit. A task waits at most wait_timeout (a week, at most) before it submits, so after a day an
# entry is of use to nobody: every look-up since saw the action itself. Lock files idle this long are pruned.
JOURNAL_LIFETIME = 24 * 3600


class Journal:
    """What the lock file says: the last action submitted under this lock, and when."""

    def __init__(self, fd):
        self._fd = fd
        self.entry = None
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, 1 << 20)
            data = json.loads(raw.decode("utf-8")) if raw else None
            if isinstance(data, dict) and data.get("action"):
                self.entry = data
        except (OSError, ValueError, UnicodeDecodeError):
            self.entry = None

    def newer_than(self, since):
        """The recorded action if it was recorded after `since` (epoch seconds), else None."""
        if self.entry and float(self.entry.get("at", 0)) >= since:
            return self.entry["action"]
        return None

    def record(self, action):
        """Remember `action` (the entity as the API returned it), for whoever holds the lock next."""
        payload = json.dumps({"at": time.time(), "action": action}).encode("utf-8")
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, payload)
        self.entry = {"at": time.time(), "action": action}


class SubmitLocks:
    def __init__(self, directory, scope_key):
        self.directory = os.path.join(directory, "locks")
        self.scope_key = scope_key

    def _path(self, machine_id, action_type, key):
        raw = "\n".join([self.scope_key, (machine_id or "").lower(), action_type, key or ""])
        return os.path.join(self.directory, hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40] + ".lock")

    @contextlib.contextmanager
    def hold(self, machine_id, action_type, key=""):
        """Hold the lock for one device and action; yields its Journal."""
        private_dir(self.directory)
        with exclusive(self._path(machine_id, action_type, key)) as fd:
            yield Journal(fd)

    def prune(self, now=None, lifetime=JOURNAL_LIFETIME):
        """Remove the lock files nobody has written for `lifetime` seconds and nobody holds. Returns how many.

        Safe beside running tasks: a file is removed only under its own lock, and a holder that finds its file gone
        takes the lock again on the new one (see _state_file.exclusive)."""
        now = time.time() if now is None else now
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 0
        return sum(1 for name in names
                   if name.endswith(".lock") and remove_if_idle(os.path.join(self.directory, name), now - lifetime))
