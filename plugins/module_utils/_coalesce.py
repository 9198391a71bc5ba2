# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what concurrent tasks of one controller share, so a per-host play (one task per
host, many forks) costs about what one fleet task does.

Two boards in the state folder (beside the submit locks), each a JSON file under its own exclusive lock:
- SharedLookup: the equal-action look-up. A task that arrives alone runs its own (its device only) and leaves its
  arrival time. A task arriving within ARRIVAL_SECONDS of another runs one look-up that covers every device of the
  action type and writes it with the time it started; tasks arriving within FRESH_SECONDS of that reuse it and take
  that start time as their own query_started, so the submit journal check (_locks.py) is exactly as safe as after a
  look-up of their own: whatever a task of this controller submitted after that moment is in the journal.
- PollBoard: waiting. A task registers its action after the POST; whoever polls, polls once for every action on
  the board (one list query) and writes the answers with the time the query started; a task uses an answer that
  started after its own last look (or a final one: a final status never changes), else polls (for all) itself.
  The final actions a shared look-up lists go on the board too.
Anything unreadable, stale or out of shape is ignored: the task then runs its own look-up or poll, never skips one.

Why "first arrival shares" and not a gather window (tasks register their devices, one leader queries for all):
a gather window delays every task by the window, alone or not, and its leader must wait for registrations it
cannot know will come; here a task alone pays nothing, tasks of a burst wait only for the one query in flight,
and the look-ups of a 300-host play (benchmarks/fleet.py, scenario b) fall from 300 to about one per
FRESH_SECONDS of the play.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import time

from ansible_collections.secops.defender.plugins.module_utils._state_file import (
    exclusive,
    private_dir,
    read_json,
    write_json,
)
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action

# A shared look-up is reused this long after it started. Short: an action made outside this controller after the
# look-up (the portal, another controller) is not seen by the tasks that reuse it, as it would not be by a task
# whose own look-up ran that long before its POST. The API refuses a second pending isolate, restrict, scan or
# collect (ActiveRequestAlreadyExists); the engine then adopts the equal action it names.
FRESH_SECONDS = 5.0
# A task arriving this soon after another of the same look-up shares one; a task alone keeps its device-only query.
ARRIVAL_SECONDS = 5.0
# A board entry its task has not looked at for this long (plus three of its poll intervals) is dropped: its task
# ended or died, and nobody else should poll for it.
ABANDONED_SECONDS = 60.0
# At most this many actions ride on one shared poll (a list query by type and creation time, paged).
BOARD_MAX = 1000
FINAL = ("Succeeded", "Failed", "TimeOut", "Cancelled")


def folder_of(locks):
    """The coalescing folder beside local submit locks (_locks.SubmitLocks), or None for other locks (a
    coordination store spans controllers; this folder would not) or none."""
    directory = getattr(locks, "directory", None)
    scope = getattr(locks, "scope_key", None)
    if not directory or scope is None:
        return None
    return os.path.join(os.path.dirname(directory), "coalesce")


def _path(folder, *parts):
    raw = "\n".join(str(p) for p in parts)
    return os.path.join(folder, hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40])


class SharedLookup:
    """One equal-action look-up for the tasks that ask the same query at about the same time."""

    def __init__(self, folder, scope_key, now=time.time):
        self.folder = folder
        self.scope_key = scope_key
        self.now = now
        self.shared = False   # whether the last fetch used (or made) a shared answer, for tests and benchmarks
        self.led = False      # whether the last fetch ran the shared look-up for the others

    def fetch(self, query_key, own, everyone):
        """(actions, started): `own()` lists this task's devices, `everyone()` every device; started is the epoch
        time the listing's query began."""
        self.shared = self.led = False
        path = _path(self.folder, "lookup", self.scope_key, query_key)
        try:
            private_dir(self.folder)
            with exclusive(path + ".lock"):
                now = self.now()
                arrived = read_json(path + ".arrived").get("at")
                _write(path + ".arrived", {"at": now})   # every arrival: tasks still coming keep the look-up shared
                answer = _fresh_answer(read_json(path), now)
                if answer is not None:
                    self.shared = True
                    return answer
                if isinstance(arrived, (int, float)) and 0 <= now - arrived <= ARRIVAL_SECONDS:
                    started = self.now()
                    actions = list(everyone())
                    self.shared = self.led = True
                    _write(path, {"started": started, "actions": actions})
                    return actions, started
        except (OSError, IOError):
            pass  # no usable folder: this task's own look-up, as without coalescing
        started = self.now()
        return list(own()), started


def _fresh_answer(board, now):
    started, actions = board.get("started"), board.get("actions")
    if not isinstance(started, (int, float)) or not isinstance(actions, list):
        return None
    if not 0 <= now - started <= FRESH_SECONDS:  # stale, or from a clock that went back
        return None
    try:
        return [api_action(a, "shared machine action") for a in actions], float(started)
    except Exception:  # pylint: disable=broad-except  # out of shape: this task looks for itself
        return None


def _write(path, data):
    try:
        write_json(path, data)
    except (OSError, IOError, TypeError, ValueError):
        pass  # the next task then runs its own look-up


class PollBoard:
    """Shared polls for the actions the tasks of one controller wait on."""

    def __init__(self, folder, scope_key, now=time.time):
        self.folder = folder
        self.path = _path(folder, "polls", scope_key)
        self.now = now
        self.last_look = {}   # action id: epoch time of this task's last poll or read
        self.shared_reads = 0

    def register(self, action, poll_interval):
        """Put an action just created (or adopted) on the board. Never raises: without the board, the task polls
        for itself."""
        if not isinstance(action, dict) or not action.get("id") or action.get("status") in FINAL:
            return
        now = self.now()
        try:
            private_dir(self.folder)
            with exclusive(self.path + ".lock"):
                board = self._read(now)
                if len(board) < BOARD_MAX:
                    entry = board.get(action["id"]) or {}   # a final answer a poll already saw is kept
                    entry.update(action=entry.get("answer") or action, seen=now, interval=float(poll_interval))
                    board[action["id"]] = entry
                    _write(self.path, board)
                    self.last_look[action["id"]] = now
        except (OSError, IOError):
            pass

    def offer(self, actions, started):
        """Keep the final ones of these listed actions (a shared look-up lists every device's): the tasks that wait
        on them then read their end instead of polling. Never raises."""
        final = [a for a in actions if isinstance(a, dict) and a.get("id") and a.get("status") in FINAL]
        if not final:
            return
        try:
            private_dir(self.folder)
            with exclusive(self.path + ".lock"):
                now = self.now()
                board = self._read(now)
                for action in final:
                    if action["id"] not in board and len(board) < BOARD_MAX:
                        board[action["id"]] = {"action": action, "answer": action, "answered": started, "seen": now,
                                               "interval": 0.0}
                _write(self.path, board)
        except (OSError, IOError):
            pass

    def poll(self, action, poll_all):
        """{action id: action} for this one action: a shared answer that started after this task last looked, else
        one poll (poll_all, given every action on the board) whose answers are written for the others."""
        action_id = action["id"]
        if action_id not in self.last_look:
            return poll_all([action])
        try:
            with exclusive(self.path + ".lock"):
                now = self.now()
                board = self._read(now)
                entry = board.get(action_id)
                answer = _answer(entry, self.last_look[action_id])
                if answer is not None:
                    self.last_look[action_id] = now
                    self.shared_reads += 1
                    self._settle(board, action_id, answer, now)
                    _write(self.path, board)
                    return {action_id: answer}
                started = self.now()
                waiting = [e["action"] for k, e in board.items() if k != action_id and e["action"].get(
                    "status") not in FINAL]
                listed = {}
                fresh = poll_all([action] + waiting[:BOARD_MAX - 1], listed)
                for key, value in fresh.items():
                    if key in board:
                        board[key].update(answer=value, answered=started, action=value)
                # Final actions of tasks that have not registered yet (their POST was just answered): their first
                # poll is then a read. A final status never changes, so its age does not matter.
                for key, value in listed.items():
                    if key not in board and value.get("status") in FINAL and len(board) < BOARD_MAX:
                        board[key] = {"action": value, "answer": value, "answered": started, "seen": now,
                                      "interval": 0.0}
                self.last_look[action_id] = started
                if action_id in fresh:
                    self._settle(board, action_id, fresh[action_id], now)
                _write(self.path, board)
                return {action_id: fresh[action_id]} if action_id in fresh else {}
        except (OSError, IOError):
            return poll_all([action])

    def _settle(self, board, action_id, answer, now):
        """The owner has seen its answer: keep its entry alive, or drop it once final (nobody polls for it more)."""
        if answer.get("status") in FINAL:
            board.pop(action_id, None)
            self.last_look.pop(action_id, None)
        elif action_id in board:
            board[action_id]["seen"] = now

    def _read(self, now):
        board = {}
        for key, entry in read_json(self.path).items():
            try:
                interval = float(entry.get("interval") or 0)
                if now - float(entry["seen"]) > ABANDONED_SECONDS + 3 * interval:
                    continue
                board[key] = dict(entry, action=api_action(entry["action"], "shared machine action"))
            except Exception:  # pylint: disable=broad-except  # out of shape: dropped, its task polls for itself
                continue
        return board


def _answer(entry, last_look):
    """The entry's answer when it is news to its task: taken after the task last looked, or final."""
    if not entry or not isinstance(entry.get("answer"), dict):
        return None
    answered = entry.get("answered")
    if not isinstance(answered, (int, float)):
        return None
    if answered <= last_look and entry["answer"].get("status") not in FINAL:
        return None
    try:
        return api_action(entry["answer"], "shared machine action")
    except Exception:  # pylint: disable=broad-except
        return None
