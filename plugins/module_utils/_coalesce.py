# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: one list query for the one-device tasks of one controller that need the same one at
the same moment, so a per-host play (one task per host, many forks) costs about one POST per device.

The rule: a task uses a shared query only if that query was SENT after the task asked for it. That is what the task
would have got by sending its own, so it never sees a state older than its own request; nothing is reused later.

How (a Gathering, one JSON file per query kind under its own exclusive lock, in the state folder beside the submit
locks): the first task to ask opens a round and, when other tasks asked lately, waits a short window; tasks asking
before the round is sent join it with what they need (their device, or the action they wait on). The leader marks
the round sent (that moment is every member's query_started, so the submit journal check of _locks.py is exactly as
after a look-up of their own), sends one query for all members and writes its answer to a file of the round. A task
asking after a round was sent opens the next one. A member whose leader died, failed or is too slow, or who cannot
read the files, sends its own query: sharing may be lost, never a query skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import threading
import time
import uuid

from ansible_collections.secops.defender.plugins.module_utils._state_file import (
    exclusive,
    private_dir,
    read_json,
    write_json,
)

# A leader waits this long for others to join, but only when tasks run at once (see _others_arrived): a task alone
# (the usual playbook, the next task of a sequential play) sends at once. The look-ups and polls of one action
# family share rounds (_action_lists.py), so a per-host play at full forks costs about one round per window: 300
# hosts at forks 25 at the documented limits cost 1.23 calls per device with 3 s, 1.19 with 4 s (a second more per
# task, 1.53 and 1.63 times the bound); 6 s while 8 tasks or more asked, 1.21 at 1.70 times.
LIST_WINDOW = 4.0
ARRIVAL_SECONDS = 5.0
# Once two tasks were seen running at once, tasks arriving this long after still gather: the next burst of forks.
CONCURRENT_SECONDS = 30.0
# An open round not sent this long after its window is abandoned (its leader stalled or died): a new one opens.
ABANDONED_SECONDS = 30.0
# A member checks this often whether its round's answer is there, and gives up on the leader after JOIN_TIMEOUT
# (the leader's query may wait its turn in the rate budget: that is no reason to send another one).
CHECK_EVERY = 0.05
JOIN_TIMEOUT = 600.0
# Answer files of rounds finished this long ago are removed when a new round opens.
KEEP_ANSWERS = 900.0
ROUNDS_KEPT = 200


def folder_of(locks):
    """The coalescing folder beside local submit locks (_locks.SubmitLocks), or None for other locks (a
    coordination store spans controllers; this folder would not) or none."""
    directory = getattr(locks, "directory", None)
    scope = getattr(locks, "scope_key", None)
    if not directory or scope is None:
        return None
    return os.path.join(os.path.dirname(directory), "coalesce")


def _alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError, OverflowError):
        return False
    return True


def _others_arrived(board, now):
    """Whether to gather: another task (another live process, or another thread of this one) asked lately, or two
    tasks were seen running at once lately (a per-host play, between two bursts of forks). Notes this arrival. The
    tasks of a sequential play never run at once, so each one sends at once."""
    me = "%d:%d" % (os.getpid(), threading.current_thread().ident or 0)
    arrivals = board.get("arrivals") if isinstance(board.get("arrivals"), dict) else {}
    others = False
    kept = {}
    for who, at in arrivals.items():
        try:
            pid, at = int(str(who).partition(":")[0]), float(at)
        except (TypeError, ValueError):
            continue
        if not 0 <= now - at <= ARRIVAL_SECONDS:
            continue
        kept[who] = at
        if who != me and (pid == os.getpid() or _alive(pid)):
            others = True
    kept[me] = now
    board["arrivals"] = kept
    if others:
        board["concurrent"] = now
    concurrent = board.get("concurrent")
    return others or (isinstance(concurrent, (int, float)) and 0 <= now - concurrent <= CONCURRENT_SECONDS)


class NotShared(Exception):
    """No usable shared answer: the task sends its own query."""


class Gathering:
    """Rounds of one query kind (`parts` name it: scope, kind, what the query asks) in `folder`."""

    def __init__(self, folder, window, *parts, **clock):
        self.folder = folder
        self.window = window
        raw = "\n".join(str(p) for p in parts)
        self.path = os.path.join(folder, hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40])
        self.now = clock.get("now", time.time)
        self.sleep = clock.get("sleep", time.sleep)
        self.role = None   # "alone", "leader" or "member" after share(): for tests and benchmarks

    def share(self, payload, send):
        """(answer, sent): the answer of one query sent after this call began, for every member's payload;
        `send(payloads)` sends it (JSON data in, JSON data out); `sent` is the epoch time just before it was sent.
        Raises NotShared when this task must send its own (then `send` was not called by it)."""
        self.role = None
        me = uuid.uuid4().hex
        try:
            private_dir(self.folder)
            with exclusive(self.path + ".lock"):
                board = read_json(self.path)
                arrival = self.now()
                together = _others_arrived(board, arrival)
                current = self._open_round(board, arrival)
                if current is not None:
                    # Not sent yet (a sent round is never "open"): its query will leave after this arrival.
                    current["members"][me] = payload
                    write_json(self.path, board)
                    round_id, leader = current["id"], current["leader"]
                else:
                    round_id, leader = uuid.uuid4().hex, None
                    self._prune(board, arrival)
                    board["open"] = {"id": round_id, "leader": os.getpid(), "opened": arrival,
                                     "members": {me: payload}}
                    write_json(self.path, board)
        except (OSError, IOError, TypeError, ValueError):
            raise NotShared()
        if leader is None:
            return self._lead(round_id, self.window if together else 0.0, send)
        return self._join(round_id, leader)

    def _open_round(self, board, now):
        """The round one can still join, or None (none, sent, out of shape, or its leader gone or stalled)."""
        current = board.get("open")
        try:
            if (isinstance(current, dict) and isinstance(current.get("members"), dict)
                    and isinstance(current.get("id"), str) and current["id"].isalnum()
                    and 0 <= now - float(current.get("opened")) <= self.window + ABANDONED_SECONDS
                    and _alive(current.get("leader"))):
                return current
        except (TypeError, ValueError):
            pass
        return None

    def _lead(self, round_id, window, send):
        if window > 0:
            self.sleep(window)
        try:
            with exclusive(self.path + ".lock"):
                board = read_json(self.path)
                current = board.get("open") or {}
                if current.get("id") == round_id:
                    board["open"] = None
                sent = self.now()
                write_json(self.path, board)
        except (OSError, IOError, TypeError, ValueError):
            raise NotShared()
        if current.get("id") != round_id:
            self._answer(round_id, {"failed": True})   # taken over (thought gone): its members send their own
            raise NotShared()
        members = current.get("members") or {}
        self.role = "leader" if len(members) > 1 else "alone"
        try:
            answer = send(list(members.values()))
        except BaseException:
            self._answer(round_id, {"failed": True})
            raise
        self._answer(round_id, {"sent": sent, "answer": answer})
        return answer, sent

    def _answer(self, round_id, data):
        try:
            write_json("%s.%s" % (self.path, round_id), data)
            with exclusive(self.path + ".lock"):
                board = read_json(self.path)
                finished = board.get("finished") if isinstance(board.get("finished"), list) else []
                board["finished"] = (finished + [[round_id, self.now()]])[-ROUNDS_KEPT:]
                write_json(self.path, board)
        except (OSError, IOError, TypeError, ValueError):
            pass  # its members then send their own

    def _join(self, round_id, leader):
        answer_path = "%s.%s" % (self.path, round_id)
        given_up = self.now() + JOIN_TIMEOUT
        checks = 0
        while self.now() < given_up:
            self.sleep(CHECK_EVERY)
            if os.path.exists(answer_path):
                data = read_json(answer_path)
                sent = data.get("sent")
                if "answer" not in data or not isinstance(sent, (int, float)):
                    raise NotShared()
                self.role = "member"
                return data["answer"], float(sent)
            checks += 1
            if checks % 20 == 0 and not _alive(leader):
                raise NotShared()
        raise NotShared()

    def _prune(self, board, now):
        finished = board.get("finished") if isinstance(board.get("finished"), list) else []
        kept = []
        for entry in finished:
            try:
                round_id, at = str(entry[0]), float(entry[1])
            except (TypeError, ValueError, IndexError):
                continue
            if now - at > KEEP_ANSWERS:
                try:
                    os.unlink("%s.%s" % (self.path, os.path.basename(round_id)))
                except OSError:
                    pass
            else:
                kept.append([round_id, at])
        board["finished"] = kept
