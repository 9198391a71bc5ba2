# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: one machineactions list query for what several one-device tasks need at once.

A task's look-up for equal actions and another task's poll of the action it waits on are the same kind of query:
actions of some types, on some devices, created since some time. So the tasks of a per-host play that ask at the
same moment (_coalesce.py) share one round for both, and the play costs about one POST per device
(https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection: 100 calls per minute and 1500
per hour for this API, whatever the filter).

A need is JSON data that each task writes to the coalescing folder: its devices, its action types, the earliest
creation time it needs (None: no bound), and the statuses a look-up counts. The union's query leaves out the
statuses (they differ between needs); each task then picks its rows from the answer by the rules the API applies
to a query of its own, and only from an answer whose query covered its whole need: what it gets is exactly what
its own query would have returned, and never less.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._times import EARLIEST, instant
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action, api_machine_id
from ansible_collections.secops.defender.plugins.module_utils._waiter import MACHINE_FILTER_MAX

# An action type or status as the API names them (StopAndQuarantineFile, InProgress).
_NAME = re.compile(r"^[A-Za-z]{1,64}$")
_SINCE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def need(devices, types, since=None, statuses=None):
    """What one task needs listed. `since` is an ISO time to the second (creationDateTimeUtc ge), or None."""
    return {"devices": sorted(d.lower() for d in devices), "types": sorted(types), "since": since,
            "statuses": sorted(statuses) if statuses else None}


def _checked(data):
    """A need read from the shared folder, checked by shape; None when out of shape (it is then not served)."""
    if not isinstance(data, dict):
        return None
    try:
        devices = [api_machine_id(d, "shared device id") for d in data.get("devices") or []]
    except DefenderError:
        return None
    types, since, statuses = data.get("types"), data.get("since"), data.get("statuses")
    if (not devices or not isinstance(types, list) or not types
            or not all(isinstance(t, str) and _NAME.match(t) for t in types)
            or not (since is None or (isinstance(since, str) and _SINCE.match(since)))
            or not (statuses is None or (isinstance(statuses, list)
                                         and all(isinstance(s, str) and _NAME.match(s) for s in statuses)))):
        return None
    return {"devices": devices, "types": types, "since": since, "statuses": statuses}


def send(client, needs):
    """List what the union of `needs` asks for: {"actions": [...], "devices", "types", "since"}: what the query
    covered, for each task to check its own need against (covers())."""
    checked = [n for n in (_checked(n) for n in needs) if n is not None]
    devices = sorted(set(d for n in checked for d in n["devices"]))
    types = sorted(set(t for n in checked for t in n["types"]))
    bounds = [n["since"] for n in checked]
    since = None if not bounds or None in bounds else min(bounds, key=instant)
    seen, actions = set(), []
    # A union of more devices than one filter names is asked in several queries, never in one without the device
    # filter: a look-up goes 30 days back, and every action of the type in the tenant would come.
    for chunk in in_chunks(devices, MACHINE_FILTER_MAX):
        text = all_of(any_of("type", types), any_of("machineId", chunk),
                      "creationDateTimeUtc ge %s" % since if since else None)
        for action in client.paged("/api/machineactions", {"$filter": text}):
            if action.get("id") not in seen:
                seen.add(action.get("id"))
                actions.append(action)
    return {"actions": actions, "devices": devices, "types": types, "since": since}


def covers(answer, wanted):
    """Whether the query of `answer` asked for everything `wanted` needs."""
    if not isinstance(answer, dict) or not isinstance(answer.get("actions"), list):
        return False
    since = answer.get("since")
    return (set(wanted["devices"]) <= set(answer.get("devices") or [])
            and set(wanted["types"]) <= set(answer.get("types") or [])
            and (since is None or (wanted["since"] is not None and instant(since) != EARLIEST
                                   and instant(since) <= instant(wanted["since"]))))


def picked(answer, wanted):
    """The actions of `answer` that the query of `wanted` alone would have listed, each checked by shape."""
    bound = instant(wanted["since"]) if wanted["since"] else None
    out = []
    for action in answer["actions"]:
        action = api_action(action, "shared machine action")
        if ((action.get("machineId") or "").lower() in wanted["devices"] and action.get("type") in wanted["types"]
                and (wanted["statuses"] is None or action.get("status") in wanted["statuses"])
                and (bound is None or instant(action.get("creationDateTimeUtc")) >= bound)):
            out.append(action)
    return out
