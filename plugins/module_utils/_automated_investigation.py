# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: automated investigations (AIR), started on devices and read back.

Not the investigation package (_investigation.py, a machine action). An automated investigation is its own entity
with its own endpoints (Microsoft Learn):
- "Start Investigation API" (https://learn.microsoft.com/defender-endpoint/api/initiate-autoir-investigation):
  POST /api/machines/{id}/startInvestigation {"Comment"}, Alert.ReadWrite.All, 50 calls per hour, 201 and the
  investigation;
- "List Investigations API" (https://learn.microsoft.com/defender-endpoint/api/get-investigation-collection):
  $filter on startTime, id, state, machineId and triggeringAlertId only;
- "Get Investigation API" (https://learn.microsoft.com/defender-endpoint/api/get-investigation-object): the id may
  be the investigation's or its triggering alert's;
- "Investigation resource type" (https://learn.microsoft.com/defender-endpoint/api/investigation): the states.

Starting one follows the fleet engine's rules without being a machine action: one list query (per 20 devices) finds
the investigations still open on the devices, which are reused; the rest are started concurrently, paced by the
shared budget's startinvestigation class (a fleet beyond 50 waits for the next hour's slots, it does not fail);
each start holds the device's submit lock, whose journal stops parallel tasks from starting a second; a start whose
outcome is unknown is looked for (same device, started since this task's look-up, not seen before) before it is sent
again. The wait polls one list query for the whole fleet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.secops.defender.plugins.module_utils._budget import DEFAULT_LIMITS
from ansible_collections.secops.defender.plugins.module_utils._clock import SYSTEM
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
    DefenderNotFoundError,
    DefenderOutcomeUnknownError,
    DefenderResponseError,
)
from ansible_collections.secops.defender.plugins.module_utils._fleet import LOOKUP_WINDOW_MIN, UNKNOWN_OUTCOME_SENDS
from ansible_collections.secops.defender.plugins.module_utils._machines import (
    ambiguous_message,
    get_by_id,
    not_found_message,
    resolve_names,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, check_filter, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._results import DEVICES, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._validate import api_machine_id

PATH = "/api/investigations"
FILTERABLE = ("startTime", "id", "state", "machineId", "triggeringAlertId")
# Learn's states, grouped by what they mean for a task. Open: the investigation goes on (or waits for a device or an
# approval), so starting another would duplicate it. Concluded: it ran to its end. Not done: it ended without
# investigating (failed, stopped, or refused what it was given). A state Learn adds later counts as final.
OPEN_STATES = ("Unknown", "Queued", "Running", "PendingApproval", "PendingResource")
CONCLUDED_STATES = ("Benign", "SuccessfullyRemediated", "PartiallyRemediated", "PartiallyInvestigated")
NOT_DONE_STATES = ("Failed", "InnerFailure", "Terminated", "TerminatedByUser", "TerminatedBySystem", "UnsupportedOs",
                   "UnsupportedAlertType", "SuppressedAlert", "PreexistingAlert")
STATES = OPEN_STATES + CONCLUDED_STATES + NOT_DONE_STATES
# Investigation ids are digits ("63004"), triggering alert ids like da637139127150012465_1011995739: both fit this,
# and nothing that could change a path does.
INVESTIGATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# The submit lock's "action type": its own, so it never shares a lock with a machine action.
LOCK_TYPE = "AutomatedInvestigation"
# How far before this task's start an investigation may have been started and still be one the task could have made:
# the API's clock and the controller's may differ by this much.
CLOCK_SKEW = 600
PLATFORMS = ("Windows 10 (1709 with KB4493441, 1803 with KB4493464, and later), Windows 11, Windows Server 2019 and "
             "later, and Azure Stack HCI OS 23H2 and later")


def is_open(investigation):
    return (investigation or {}).get("state") in OPEN_STATES


def api_investigation(entity, field="investigation"):
    """An investigation from the API, its id and device id checked by shape before anything uses them."""
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), (str, int)) \
            or not INVESTIGATION_ID.match(str(entity.get("id"))):
        raise DefenderResponseError("The API answered a %s without a usable id; it was not used in any path."
                                    % field, field=field)
    if entity.get("machineId") is not None:
        api_machine_id(entity.get("machineId"), "%s machineId" % field)
    return entity


def check_investigation_id(value, option="investigation_id"):
    text = (value if isinstance(value, str) else "").strip()
    if not INVESTIGATION_ID.match(text):
        raise DefenderInputError("%s %r is not an investigation id (digits, like 63004) or a triggering alert id."
                                 % (option, value))
    return text


def _since(seconds_before_now):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_before_now))


def list_investigations(client, machine_ids=None, states=None, ids=None, extra=None, limit=None):
    """Investigations matching all the criteria given, paged; device and id lists are split 20 a query."""
    chunks = [("machineId", c) for c in in_chunks(sorted(set(machine_ids)))] if machine_ids else \
        [("id", c) for c in in_chunks(list(ids))] if ids else [(None, None)]
    found, seen = [], set()
    for field, values in chunks:
        query = all_of(any_of(field, values) if field else None, any_of("state", states), extra)
        for entity in client.paged(PATH, {"$filter": query} if query else None, limit=limit):
            entity = api_investigation(entity, "listed investigation")
            if str(entity["id"]) not in seen:
                seen.add(str(entity["id"]))
                found.append(entity)
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def get_investigation(client, key):
    return api_investigation(client.get("%s/%s" % (PATH, quote_segment(key))))


class InvestigationRow(ItemRow):
    """One device's line: its investigation, started or reused."""

    def __init__(self, given, machine_id=None):
        super(InvestigationRow, self).__init__()
        self.given = given
        self.machine_id = machine_id
        self.machine_name = None
        self.investigation = None
        self.reused = False

    @staticmethod
    def result_keys():
        return ("investigation_id", "state", "investigation")

    def fields(self):
        inv = self.investigation or {}
        return {"machine": self.given, "machine_id": self.machine_id or inv.get("machineId"),
                "machine_name": self.machine_name or inv.get("computerDnsName"),
                "investigation_id": None if inv.get("id") is None else str(inv["id"]), "state": inv.get("state"),
                "reused": self.reused, "investigation": self.investigation}


class InvestigationStarter:
    """Starts (or reuses) one automated investigation per device of a FleetRequest, and waits when asked."""

    def __init__(self, client, request, comment):
        self.client = client
        self.request = request
        self.comment = comment
        self.clock = getattr(client, "clock", None) or SYSTEM
        self.query_started = time.time()
        self.since = _since(CLOCK_SKEW)
        self.known = {}      # machine id -> ids of its investigations seen before anything was started

    def run(self):
        rows = self._resolve()
        live = [r for r in rows if not r.failed]
        self._find_open(live)
        to_start = [r for r in live if r.investigation is None and not r.failed]
        self._warn_of_pacing(len(to_start))
        if self.request.check_mode:
            for row in to_start:
                row.changed = True
                row.msg = "Would start an automated investigation."
            return rows
        self._each(to_start, self._start_one)
        if self.request.locks is not None:
            self.request.locks.prune()
        if self.request.wait:
            self._wait([r for r in live if r.investigation is not None and not r.failed])
        else:
            for row in live:
                self._judge(row)
        return rows

    def _warn_of_pacing(self, count):
        """Say up front how long the starts take when they are more than one window of the limit allows."""
        budget = getattr(self.client, "budget", None)
        windows = (budget.limits if budget is not None else DEFAULT_LIMITS)["startinvestigation"]
        for calls, seconds in windows:
            if count > calls:
                self.client.warnings.append(
                    "%d automated investigations %s started, and the rate budget (startinvestigation) allows %d "
                    "in %d seconds: the task takes at least %d seconds, waiting for it (max_retry_wait bounds each "
                    "wait)." % (
                        count, "would be" if self.request.check_mode else "are", calls, seconds,
                        (count - 1) // calls * seconds))
                return

    # --- resolve ---------------------------------------------------------------------------------------
    def _resolve(self):
        rows = [InvestigationRow(given, given if kind == "id" else None) for given, kind in self.request.targets]
        names = [r.given for r in rows if r.machine_id is None]
        found = resolve_names(self.client, names) if names else {}
        for row in rows:
            if row.machine_id is None:
                matches = found.get(row.given) or []
                if len(matches) == 1:
                    row.machine_id, row.machine_name = matches[0]["id"].lower(), matches[0].get("computerDnsName")
                else:
                    row.fail(DefenderInputError(ambiguous_message(row.given, matches) if matches
                                                else not_found_message(row.given)))
        if self.request.check_mode:
            # Nothing is started, so nothing else would tell that an id is unknown.
            self._each([r for r in rows if not r.failed and r.machine_name is None], self._read_machine)
        seen = {}
        for row in rows:
            if not row.failed and row.machine_id in seen:
                row.fail(DefenderInputError("%s is the same device as %s, listed earlier; it is investigated once."
                                            % (row.given, seen[row.machine_id])))
            elif not row.failed:
                seen[row.machine_id] = row.given
        return rows

    def _read_machine(self, row):
        try:
            row.machine_name = get_by_id(self.client, row.machine_id).get("computerDnsName")
        except DefenderError as exc:
            row.fail(exc)

    # --- find the open ones ---------------------------------------------------------------------------
    def _find_open(self, rows):
        """One paged query per 20 devices: their open investigations (reused) and the ones started lately (what an
        unknown outcome's look-up must not take for its own)."""
        self.query_started = time.time()
        if not rows:
            return
        recent = "(%s or startTime ge %s)" % (any_of("state", OPEN_STATES), self.since)
        try:
            listed = list_investigations(self.client, machine_ids=[r.machine_id for r in rows], extra=recent)
        except DefenderError as exc:
            for row in rows:
                row.fail(exc)
            return
        newest = {}
        for inv in sorted(listed, key=lambda i: instant(i.get("startTime"))):
            machine = (inv.get("machineId") or "").lower()
            self.known.setdefault(machine, set()).add(str(inv["id"]))
            if is_open(inv):
                newest[machine] = inv
        for row in rows:
            inv = newest.get(row.machine_id)
            if inv is not None:
                self._reuse(row, inv, "An automated investigation (%s) is already %s on the device; it was reused, "
                                      "nothing was started." % (inv["id"], inv.get("state")))

    def _reuse(self, row, inv, msg):
        row.investigation, row.reused, row.changed, row.msg = inv, True, False, msg
        row.machine_name = row.machine_name or inv.get("computerDnsName")

    # --- start -----------------------------------------------------------------------------------------
    def _start_one(self, row):
        try:
            if self.request.locks is None:
                self._start(row, None)
            else:
                with self.request.locks.hold(row.machine_id, LOCK_TYPE) as journal:
                    self._start(row, journal)
        except DefenderError as exc:
            if isinstance(exc, DefenderNotFoundError) and exc.method == "POST":
                exc.message = "No machine with id %s in this tenant." % row.machine_id
                exc.hint = "Check the id, or give the device's computer name instead."
            elif getattr(exc, "generic", False):
                exc.message = "The API refused to start an automated investigation on %s." % (
                    row.machine_name or row.given)
            if exc.code in ("OsPlatformNotSupported", "ClientVersionNotSupported") and not exc.hint:
                exc.hint = "Automated investigation runs on %s only." % PLATFORMS
            row.fail(exc)
        except Exception as exc:  # a bug must not stop the other devices; report it on this row
            row.fail(DefenderError("Unexpected error while starting: %s: %s" % (type(exc).__name__, exc)))

    def _start(self, row, journal):
        if journal is not None:
            recorded = journal.newer_than(self.query_started)
            if recorded is not None and is_open(recorded):  # another task started it after our look-up
                self._reuse(row, api_investigation(recorded, "journaled investigation"),
                            "An automated investigation (%s) was started meanwhile by another task; it was reused, "
                            "nothing was started." % recorded["id"])
                return
        inv = self._post(row)
        if journal is not None:
            journal.record(inv)
        row.investigation, row.changed = inv, True
        row.machine_name = row.machine_name or inv.get("computerDnsName")
        row.msg = "Started automated investigation %s." % inv["id"]

    def _post(self, row):
        """Send; when the outcome is unknown, look for the investigation it may have made, and send again only once
        the look-up found nothing. At most UNKNOWN_OUTCOME_SENDS sends."""
        path = "/api/machines/%s/startInvestigation" % quote_segment(row.machine_id)
        first_error, looked = None, 0.0
        for dummy in range(UNKNOWN_OUTCOME_SENDS):
            try:
                return api_investigation(self.client.post(path, {"Comment": self.comment}),
                                         "investigation the API started")
            except DefenderOutcomeUnknownError as exc:
                first_error = first_error or exc
                found, seconds = self._look_for_ours(row)
                looked = max(looked, seconds)
                if found is not None:
                    return found
        first_error.message = (
            "The outcome of starting an automated investigation on %s is unknown: %s It was sent %d times, looked "
            "for for %d seconds after each attempt and not found, so it was most likely not started." % (
                row.machine_name or row.given, first_error.message, UNKNOWN_OUTCOME_SENDS, looked))
        first_error.hint = "Check with secops.defender.defender_investigation_info before running the task again."
        raise first_error

    def _look_for_ours(self, row):
        """The investigation an unknown outcome may have made: on this device, started since shortly before this
        task began, and not among those seen before it started anything. The entity carries no comment or
        external id, so this is as close as it can tell; another start on the same device in those seconds would be
        taken for this one, which leaves the device investigated all the same."""
        window = max(LOOKUP_WINDOW_MIN, float(getattr(self.client, "timeout", 30) or 30))
        started = self.clock.monotonic()
        delay = 1.0
        known = self.known.get(row.machine_id, set())
        while True:
            candidates = [i for i in list_investigations(self.client, machine_ids=[row.machine_id],
                                                         extra="startTime ge %s" % self.since)
                          if str(i["id"]) not in known]
            if candidates:
                return max(candidates, key=lambda i: instant(i.get("startTime"))), self.clock.monotonic() - started
            looked = self.clock.monotonic() - started
            if looked >= window:
                return None, looked
            self.clock.sleep(min(delay, window - looked))
            delay *= 2

    # --- wait ------------------------------------------------------------------------------------------
    def _wait(self, rows):
        """Poll one list query for all of them (their devices when 20 or fewer, started since the oldest) until each
        is final or wait_timeout has passed since the last start."""
        deadline = self.clock.monotonic() + self.request.wait_timeout
        step = 1.0
        while True:
            waiting = [r for r in rows if is_open(r.investigation)]
            if not waiting:
                break
            now = self.clock.monotonic()
            if now >= deadline:
                break
            self.clock.sleep(min(step, self.request.poll_interval, max(0.0, deadline - now)))
            step = min(step * 2, self.request.poll_interval)
            try:
                self._poll(waiting)
            except DefenderError as exc:
                # One failed poll is not the end: the investigations go on. Give up only when the wait runs out.
                self.client.warnings.append("A poll failed and will be repeated: %s" % exc)
        for row in rows:
            self._judge(row, waited=True)

    def _poll(self, waiting):
        oldest = min((r.investigation.get("startTime") or "" for r in waiting), key=instant)
        machines = sorted(set(r.machine_id for r in waiting))
        query = all_of(any_of("machineId", machines) if len(machines) <= 20 else None,
                       "startTime ge %s" % (oldest[:19] + "Z") if instant(oldest) > 0 else None)
        fresh = {}
        for entity in self.client.paged(PATH, {"$filter": query} if query else None):
            entity = api_investigation(entity, "listed investigation")
            fresh[str(entity["id"])] = entity
        for row in waiting:
            inv = fresh.get(str(row.investigation["id"]))
            if inv is None:  # the list should not leave it out; read it on its own
                try:
                    inv = get_investigation(self.client, str(row.investigation["id"]))
                except DefenderNotFoundError:
                    row.fail(DefenderNotFoundError("Investigation %s on %s is no longer known to the API." % (
                        row.investigation["id"], row.machine_name or row.given), method="GET", path=PATH))
                    continue
            if (inv.get("machineId") or "").lower() not in ("", row.machine_id):
                row.fail(DefenderResponseError("The API listed investigation %s under device %r, not %s." % (
                    inv["id"], inv.get("machineId"), row.machine_id), field="machineId"))
                continue
            row.investigation = inv

    def _judge(self, row, waited=False):
        """Fail a row whose investigation ended without investigating, or (after a wait) is still open."""
        inv = row.investigation
        if row.failed or inv is None:
            return
        name = row.machine_name or row.given
        state = inv.get("state")
        details = (": %s" % inv["statusDetails"]) if inv.get("statusDetails") else ""
        if state in NOT_DONE_STATES:
            row.fail(DefenderActionError("Automated investigation %s on %s ended %s%s." % (inv["id"], name, state,
                                                                                           details), code=state))
        elif waited and is_open(inv):
            hint = ("Approve or reject its pending actions in the Defender portal's Action center."
                    if state == "PendingApproval" else
                    "It goes on in Defender; read it later with secops.defender.defender_investigation_info.")
            row.fail(DefenderActionError("Automated investigation %s on %s is still %s after wait_timeout=%ss%s." % (
                inv["id"], name, state, self.request.wait_timeout, details), code="WaitTimeout", hint=hint))

    # --- helpers ---------------------------------------------------------------------------------------
    def _each(self, rows, call):
        if len(rows) <= 1:
            for row in rows:
                call(row)
            return
        with ThreadPoolExecutor(max_workers=self.request.concurrency) as pool:
            for future in [pool.submit(call, row) for row in rows]:
                future.result()


def summary(results):
    counts = {"devices": len(results), "started": 0, "reused": 0, "would_start": 0, "failed": 0, "states": {}}
    for row in results:
        if row["state"]:
            counts["states"][row["state"]] = counts["states"].get(row["state"], 0) + 1
        if row["failed"]:
            counts["failed"] += 1
        elif row["reused"]:
            counts["reused"] += 1
        elif row["changed"] and row["investigation_id"]:
            counts["started"] += 1
        elif row["changed"]:
            counts["would_start"] += 1
    return counts


TOP_KEYS = ("machine_id", "machine_name", "investigation_id", "state", "reused", "investigation")


def start_investigations(client, request, comment):
    """Start or reuse one automated investigation per device; the module result, or DefenderActionError carrying
    it."""
    comment = (comment or "").strip()
    if not comment:
        raise DefenderInputError("comment must not be empty: the API requires one (it is shown in the portal).")
    rows = InvestigationStarter(client, request, comment).run()
    results = [r.as_dict() for r in rows]
    return finish(results, DEVICES, summary(results), single=request.single, top_keys=TOP_KEYS,
                  fail_on_error=request.fail_on_device_error, client=client)


def read_investigations(client, ids=None, machine_ids=None, states=None, started_after=None, started_before=None,
                        odata_filter=None, limit=None):
    """Investigations by id (the list, 20 ids a query, then a GET for what it left out, which also takes a triggering
    alert id), or else by devices, states, start times and a raw filter. Returns (investigations, missing ids)."""
    if odata_filter:
        check_filter(odata_filter, FILTERABLE, entity="investigations")
    extra = all_of("startTime ge %s" % started_after if started_after else None,
                   "startTime le %s" % started_before if started_before else None,
                   "(%s)" % odata_filter if odata_filter else None)
    if not ids:
        return list_investigations(client, machine_ids=machine_ids, states=states, extra=extra, limit=limit), []
    found = list_investigations(client, ids=ids)
    by_id = dict((str(i["id"]).lower(), i) for i in found)
    out, missing = [], []
    for key in ids:
        inv = by_id.get(key.lower())
        if inv is None:
            try:
                inv = get_investigation(client, key)
            except DefenderNotFoundError:
                missing.append(key)
                continue
        if inv not in out:
            out.append(inv)
    return out[:limit] if limit else out, missing
