# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the one way to wait for machine actions to end.

One action is read with a GET per poll; several with one paged list query per poll for all of them (their types,
their devices when few, created since the oldest), so waiting on a thousand actions costs what waiting on one does.
The fleet engine polls through poll(); everything else that waits (action_info, cancel, fetching results again)
calls wait(). Time passes on the client's clock (_clock.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._clock import SYSTEM
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderError,
    DefenderForbiddenError,
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of
from ansible_collections.secops.defender.plugins.module_utils._times import EARLIEST, instant
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action

FINAL = ("Succeeded", "Failed", "TimeOut", "Cancelled")
# The final statuses of an action the device ran: how long one took says how long the next should. A TimeOut ends
# when the API gives up on a device that never took it (a day or more), a Cancelled one when someone cancels it.
RAN = ("Succeeded", "Failed")
# Up to this many devices, list queries also name the devices; beyond, they filter by type and time only.
MACHINE_FILTER_MAX = 20
# A wait says how it goes once a minute (client.progress, returned as wait_progress and shown at -v), naming the
# actions that have waited longest.
PROGRESS_EVERY = 60
PROGRESS_SLOWEST = 3


# A poll timed by EndForecast comes this long after the forecast end (the API commits an action's end a moment
# after its lastUpdateDateTimeUtc).
FORECAST_MARGIN = 0.25


def is_final(action):
    return (action or {}).get("status") in FINAL


def last_update(action):
    """The list examples spell it lastUpdateTimeUtc, the entity docs lastUpdateDateTimeUtc."""
    return action.get("lastUpdateDateTimeUtc") or action.get("lastUpdateTimeUtc")


def _api_seconds(text):
    ticks = instant(text)
    return None if ticks == EARLIEST else ticks / 1e7


class EndForecast:
    """When the actions still open should end, on the client's clock: each one's creationDateTimeUtc plus how long
    the ended ones of the same wait took (their last update less their creation, both on the API's own clock).

    A fleet's last actions are submitted last, long after the first ones ended (the next rate window), and a
    back-off of polls begun when the submissions ended (0.5, 1, 2, 4 s...) would look seconds after they end; a
    poll timed by this looks just after (the engine decides when to use it: FleetEngine._next_poll_in). It learns
    only from actions that ran (RAN), and without one there is no forecast. Each counts once, however often seen."""

    def __init__(self):
        self._offset = None     # the client's clock less the API's, at its smallest (a POST's answer, read at once)
        self._durations = {}    # {action id: seconds from creation to end}

    def note_created(self, action, now):
        created = _api_seconds((action or {}).get("creationDateTimeUtc"))
        if created is not None and (self._offset is None or now - created < self._offset):
            self._offset = now - created

    def note_ended(self, action):
        created = _api_seconds((action or {}).get("creationDateTimeUtc"))
        ended = _api_seconds(last_update(action or {}))
        if (action or {}).get("status") in RAN and created is not None and ended is not None and ended >= created:
            self._durations[action.get("id") or len(self._durations)] = ended - created

    def expected_end(self, actions):
        """The client-clock time by which all of `actions` should have ended, or None without a basis."""
        if self._offset is None or not self._durations:
            return None
        typical = sorted(self._durations.values())[len(self._durations) // 2]
        ends = [c + typical + self._offset for c in (_api_seconds(a.get("creationDateTimeUtc")) for a in actions)
                if c is not None]
        return max(ends) + FORECAST_MARGIN if ends else None


class Waiter:
    def __init__(self, client):
        self.client = client
        self.clock = getattr(client, "clock", None) or SYSTEM
        self._started = None     # when the first poll was made, on the client's clock
        self._next_note = None
        self._seen = set()       # every action id polled, for "N of M"

    def get(self, action_id):
        try:
            action = self.client.get("/api/machineactions/%s" % quote_segment(action_id))
        except DefenderNotFoundError as exc:
            exc.message = "No machine action with id %s in this tenant." % action_id
            exc.hint = ("Check the id. Live response sessions started from the portal are not visible through "
                        "the API.")
            raise
        return api_action(action)

    def poll(self, actions):
        """{action id: the action as it is now} for these actions (as last read): one GET for one action, else one
        paged list query for all. An action the list leaves out (it should not) is read on its own; one that is
        gone is left out of the answer."""
        fresh = self.read(actions)
        self.note_progress([fresh.get(a["id"], a) for a in actions])
        return fresh

    def read(self, actions):
        """poll() without its progress notes: for a poll shared with other tasks (_coalesce.py), whose actions are
        theirs to note."""
        if len(actions) == 1:
            return {actions[0]["id"]: self.get(actions[0]["id"])}
        oldest = min((a.get("creationDateTimeUtc") or "" for a in actions), key=instant)
        machines = sorted(set((a.get("machineId") or "").lower() for a in actions if a.get("machineId")))
        query = all_of(any_of("type", sorted(set(a.get("type") for a in actions if a.get("type")))),
                       any_of("machineId", machines) if len(machines) <= MACHINE_FILTER_MAX else None,
                       "creationDateTimeUtc ge %s" % (oldest[:19] + "Z") if oldest else None)
        wanted = set(a["id"] for a in actions)
        fresh = {}
        for action in self.client.paged("/api/machineactions", {"$filter": query} if query else None):
            if action.get("id") in wanted:
                fresh[action["id"]] = api_action(action, "listed machine action")
        for action_id in wanted - set(fresh):
            try:
                fresh[action_id] = self.get(action_id)
            except DefenderNotFoundError:
                continue
        return fresh

    def note_progress(self, polled):
        """Once a minute of waiting: how many actions are still open, by status, and the ones open longest, by
        device name, into client.progress (a list; a client without one gets no notes)."""
        notes = getattr(self.client, "progress", None)
        now = self.clock.monotonic()
        self._seen.update(a["id"] for a in polled)
        if self._started is None:
            self._started, self._next_note = now, now + PROGRESS_EVERY
        open_actions = [a for a in polled if not is_final(a)]
        if notes is None or not open_actions or now < self._next_note:
            return
        self._next_note = now + PROGRESS_EVERY
        statuses = {}
        for action in open_actions:
            statuses[action.get("status")] = statuses.get(action.get("status"), 0) + 1
        slowest = sorted(open_actions, key=lambda a: instant(a.get("creationDateTimeUtc") or ""))[:PROGRESS_SLOWEST]
        notes.append("After %d s of waiting: %d of %d action(s) still open (%s); open longest: %s." % (
            now - self._started, len(open_actions), len(self._seen),
            ", ".join("%d %s" % (n, status) for status, n in sorted(statuses.items(), key=lambda i: str(i[0]))),
            "; ".join("%s (%s %s since %s)" % (a.get("computerDnsName") or a.get("machineId"), a.get("type"),
                                               a.get("status"), a.get("creationDateTimeUtc")) for a in slowest)))

    def wait(self, actions, timeout, poll_interval):
        """Poll until every action is final or `timeout` seconds have passed; returns the actions as last read, in
        the order given. A failed poll (a fault that outlived its retries) is not the actions' end: it is repeated
        until the wait runs out. Refusals that would not change (not found, forbidden) are raised."""
        current = dict((a["id"], a) for a in actions)
        deadline = self.clock.monotonic() + timeout
        while True:
            waiting = [a for a in current.values() if not is_final(a)]
            if not waiting or self.clock.monotonic() + poll_interval > deadline:
                return [current[a["id"]] for a in actions]
            self.clock.sleep(poll_interval)
            try:
                current.update(self.poll(waiting))
            except (DefenderNotFoundError, DefenderForbiddenError, DefenderInputError):
                raise
            except DefenderError:
                continue
