# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the machine-action template. One ActionSpec per action; one engine for all.

The engine runs resolve -> find equal -> check mode -> submit -> wait for any number of devices:
- names are resolved with a few paged queries; a device id needs no look-up at all;
- equal actions for the whole fleet come from one paged machineactions query;
- submissions go out concurrently, paced by the shared rate budget, each under a per-device lock whose journal
  stops parallel tasks from submitting the same action twice;
- a POST whose outcome is unknown is looked for over a short window before it is ever sent again;
- waiting polls one paged list query for the whole fleet, and hands each device on as soon as its action ends.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.secops.defender.plugins.module_utils._actions import (
    ACTIVE,
    ActionService,
    describe_failure,
    is_final,
)
from ansible_collections.secops.defender.plugins.module_utils._client import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderActiveActionError,
    DefenderError,
    DefenderInputError,
    DefenderNotFoundError,
    DefenderOutcomeUnknownError,
    DefenderResponseError,
    is_active_action_refusal,
)
from ansible_collections.secops.defender.plugins.module_utils._machines import (
    ambiguous_message,
    get_by_id,
    not_found_message,
    resolve_names,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, eq
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action

COUNTS_AS_DONE = ACTIVE + ("Succeeded",)
# The API's answers for a device whose platform or sensor version does not support the action.
PLATFORM_CODES = ("OsPlatformNotSupported", "ClientVersionNotSupported")
# Up to this many devices, list queries also name the devices; beyond, they filter by type and time only.
MACHINE_FILTER_MAX = 20
# How long a POST with an unknown outcome is looked for before it is sent once more (at least; see _look_window).
LOOKUP_WINDOW_MIN = 10


class ActionSpec:
    """What one machine action is. Everything else (devices, dedupe, locks, pacing, waiting) is the engine's.

    action_type  the MachineAction `type` (StopAndQuarantineFile)
    verb         the path segment after /api/machines/{id}/ (StopAndQuarantineFile)
    permission   the application permission it needs, for docs and messages
    body         options -> the JSON body
    equal        (action, options) -> whether an existing action of this type on the device is "the same"
    key          options -> the text that makes two requests the same (the SHA-1), for the submit lock
    dedupe       whether an equal action that is pending, running or succeeded is reported instead of submitting
    busy_types   the action types whose pending action makes the API refuse this one
    want         the final status that counts as success (None: the caller judges)
    platforms    where the API supports it, for docs and messages
    counts       the statuses in which an equal action makes a new one unneeded (a scan: only while it runs)
    state_types  for a state the API does not show (isolation): the action types that set it. The newest of them
                 that is pending, running or succeeded is the device's state; it is "equal" when it is of this
                 spec's type and `equal` says so. No lookback applies: an isolation is in force until released.
    settled_without_history  with state_types: a device that never had any of them is already in this state
                 (it was never isolated, so it is released)
    request_key  (machine id, options) -> a digest of what makes two requests on a device the same, carried in
                 the ExternalID the engine sends, so a later run finds its own action by it (a session)
    read_full    whether a listed action without commands or ExternalID is read in full before `equal` judges it
    """

    def __init__(self, action_type, verb, permission, body, equal=None, key=None, dedupe=True, busy_types=None,
                 want="Succeeded", platforms=None, counts=None, state_types=None, settled_without_history=False,
                 request_key=None, read_full=False):
        self.action_type = action_type
        self.verb = verb
        self.permission = permission
        self.body = body
        self.equal = equal or (lambda action, options: True)
        self.key = key or (lambda options: "")
        self.dedupe = dedupe
        self.busy_types = busy_types or (action_type,)
        self.want = want
        self.platforms = platforms
        self.counts = tuple(counts or COUNTS_AS_DONE)
        self.state_types = tuple(state_types or ())
        self.settled_without_history = settled_without_history
        self.request_key = request_key
        self.read_full = read_full


class Row:
    """One device's line in the result."""

    def __init__(self, given, machine_id=None, machine_name=None):
        self.given = given
        self.machine_id = machine_id
        self.machine_name = machine_name
        self.action = None
        self.changed = False
        self.failed = False
        self.msg = ""
        self.error = None
        self.deadline = None
        self.finished = False       # final status seen and handed on
        self.extra = {}             # what the action's own code adds (commands, files...)
        self.adopted = False        # its action was found (an earlier run's, or another task's), not submitted
        self.release = None         # called once when this device no longer holds a session slot

    def fail(self, exc):
        self.failed = True
        self.msg = str(exc)
        self.error = exc.to_dict()
        if isinstance(exc, DefenderActionError):
            self.extra.update(dict((k, v) for k, v in exc.result.items()
                                   if k not in ("action_id", "status", "machine_action")))
        self.finished = True
        self._release()

    def _release(self):
        if self.release is not None:
            release, self.release = self.release, None
            release()

    def as_dict(self):
        action = self.action or {}
        row = {
            "machine": self.given,
            "machine_id": self.machine_id or action.get("machineId"),
            "machine_name": self.machine_name or action.get("computerDnsName"),
            "action_id": action.get("id"),
            "status": action.get("status"),
            "changed": self.changed,
            "failed": self.failed,
            "msg": self.msg,
        }
        if self.error:
            row["error"] = self.error
        row.update(self.extra)
        return row


class FleetEngine:
    def __init__(self, client, spec, options, locks=None, check_mode=False, concurrency=10,
                 dedupe_lookback_days=30, max_active=None, on_final=None, lookback_seconds=None):
        self.client = client
        self.spec = spec
        self.options = options
        self.locks = locks
        self.check_mode = check_mode
        self.concurrency = max(1, int(concurrency))
        self.lookback = dedupe_lookback_days * 86400 if lookback_seconds is None else lookback_seconds
        self.actions = ActionService(client)
        self.on_final = on_final
        self._slots = threading.BoundedSemaphore(max_active) if max_active else None
        self._lock = threading.Lock()
        self.warnings = []
        self.query_started = time.time()

    # --- the template ------------------------------------------------------------------------------------
    def run(self, targets, wait=True, wait_timeout=900, poll_interval=10, force=False, on_active_action="fail"):
        """targets: (given, "id"|"name") pairs. Returns one Row per device, in the order given."""
        self.wait, self.wait_timeout, self.poll_interval = wait, wait_timeout, poll_interval
        if not wait:
            self._slots = None  # nothing would see the sessions end and free their slots
        self.force, self.on_active_action = force, on_active_action
        rows = self._resolve(targets)
        self.one_device = len(rows) == 1
        live = [r for r in rows if not r.failed]
        existing = self._find_equal(live)
        to_submit = []
        for row in live:
            found = existing.get(row.machine_id.lower())
            if found is not None and not force:
                self._adopt(row, found, "An equal action is already %s; nothing was submitted." % found["status"])
            elif row.machine_id.lower() in self.settled and not force:
                row.msg = "The device has no %s action, so it is already in that state; nothing was submitted." % (
                    " or ".join(self.spec.state_types))
            else:
                to_submit.append(row)
        if self.check_mode:
            for row in to_submit:
                row.changed = True
                row.msg = "Would submit %s." % self.spec.action_type
            return rows
        self._submit_and_watch(rows, to_submit)
        return rows

    # --- resolve ---------------------------------------------------------------------------------------
    def _resolve(self, targets):
        rows = [Row(given, machine_id=given.lower() if kind == "id" else None) for given, kind in targets]
        names = [r.given for r in rows if r.machine_id is None]
        if names:
            found = resolve_names(self.client, names)
            for row in rows:
                if row.machine_id is None:
                    matches = found.get(row.given) or []
                    if len(matches) == 1:
                        row.machine_id, row.machine_name = matches[0]["id"].lower(), matches[0].get("computerDnsName")
                    else:
                        row.fail(DefenderInputError(ambiguous_message(row.given, matches) if matches
                                                    else not_found_message(row.given)))
        if self.check_mode:
            # Nothing is submitted, so nothing else would tell that an id is unknown: read each one.
            self._each([r for r in rows if not r.failed and r.machine_name is None], self._read_machine)
        seen = {}
        for row in rows:
            if not row.failed and row.machine_id in seen:
                row.fail(DefenderInputError("%s is the same device as %s, listed earlier; it is acted on once."
                                            % (row.given, seen[row.machine_id])))
            elif not row.failed:
                seen[row.machine_id] = row.given
        return rows

    def _read_machine(self, row):
        try:
            machine = get_by_id(self.client, row.machine_id)
            row.machine_name = machine.get("computerDnsName")
        except DefenderError as exc:
            row.fail(exc)

    # --- find equal ------------------------------------------------------------------------------------
    def _find_equal(self, rows):
        """{machine id: the newest equal action that is pending, running or succeeded}, from one paged query."""
        self.query_started = time.time()
        self.settled = set()
        if not self.spec.dedupe or not rows:
            return {}
        ids = set(r.machine_id.lower() for r in rows)
        machines = any_of("machineId", sorted(ids)) if len(ids) <= MACHINE_FILTER_MAX else None
        if self.spec.state_types:
            query = all_of(any_of("type", self.spec.state_types), machines, any_of("status", COUNTS_AS_DONE))
            actions = list(self.client.paged("/api/machineactions", {"$filter": query}))
            best = current_state(actions, ids, self.spec, self.options)
            if self.spec.settled_without_history:
                seen = set((a.get("machineId") or "").lower() for a in actions)
                self.settled = ids - seen
        else:
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - self.lookback))
            query = all_of(eq("type", self.spec.action_type), machines, any_of("status", self.spec.counts),
                           "creationDateTimeUtc ge %s" % since)
            actions = self._full(list(self.client.paged("/api/machineactions", {"$filter": query})), ids)
            best = newest_equal(actions, ids, self.spec, self.options)
        for action in best.values():  # an id that will be used in paths and URLs: checked by shape first
            api_action(action, "listed machine action")
        self.before = set(a["id"] for a in best.values())
        return best

    def _full(self, actions, ids):
        """For a spec that compares commands: read in full the candidates the list left them out of and that carry
        no ExternalID to tell them by (few: this type, these devices, the window, a counted status)."""
        if not self.spec.read_full:
            return actions
        out = []
        for action in actions:
            if ((action.get("machineId") or "").lower() in ids and action.get("status") in self.spec.counts
                    and action.get("commands") is None and not _external_id(action)):
                action = self.actions.get(api_action(action, "listed machine action")["id"])
            out.append(action)
        return out

    def _adopt(self, row, action, msg):
        row.action, row.changed, row.msg, row.adopted = action, False, msg, True
        row.machine_name = row.machine_name or action.get("computerDnsName")
        row.deadline = ActionService.clock() + self.wait_timeout

    # --- submit ----------------------------------------------------------------------------------------
    def _submit_and_watch(self, rows, to_submit):
        with ThreadPoolExecutor(max_workers=self.concurrency) as submitters, \
                ThreadPoolExecutor(max_workers=self.concurrency) as finishers:
            submitting = [submitters.submit(self._submit_one, row) for row in to_submit]
            finishing = []
            if self.wait:
                self._watch(rows, submitting, finishing, finishers)
            for future in submitting + finishing:
                future.result()
        if not self.wait:
            for row in rows:
                row._release()

    def _submit_one(self, row):
        try:
            if self._slots is not None:
                self._slots.acquire()
                row.release = self._slots.release
            self._submit_locked(row)
        except DefenderError as exc:
            if isinstance(exc, DefenderNotFoundError) and exc.method == "POST":
                exc.message = "No machine with id %s in this tenant." % row.machine_id
                exc.hint = "Check the id, or give the device's computer name instead."
            if exc.message == "The API refused the request.":  # the client's words; say which action and device
                exc.message = "The API refused %s on %s." % (self.spec.action_type, row.machine_name or row.given)
            if exc.code in PLATFORM_CODES and self.spec.platforms and not exc.hint:
                exc.hint = "%s runs on %s only." % (self.spec.action_type, self.spec.platforms)
            row.fail(exc)
        except Exception as exc:  # a bug must not hang the other devices; report it on this row
            row.fail(DefenderError("Unexpected error while submitting: %s: %s" % (type(exc).__name__, exc)))

    def _submit_locked(self, row):
        key = self.spec.key(self.options)
        if self.locks is None:
            self._submit_row(row, None)
            return
        with self.locks.hold(row.machine_id, self.spec.action_type, key) as journal:
            self._submit_row(row, journal)

    def _submit_row(self, row, journal):
        if journal is not None and self.spec.dedupe and not self.force:
            recorded = journal.newer_than(self.query_started)
            if recorded is not None:  # another task submitted it after our look-up
                api_action(recorded, "journaled machine action")
                self._adopt(row, recorded, "An equal action was submitted meanwhile by another task; nothing "
                                           "was submitted.")
                row._release()
                return
        deadline = ActionService.clock() + self.wait_timeout
        action = self._post_when_free(row, deadline)
        if journal is not None:
            journal.record(action)
        row.action, row.changed = action, True
        row.machine_name = row.machine_name or action.get("computerDnsName")
        row.deadline = ActionService.clock() + self.wait_timeout

    def _post_when_free(self, row, deadline):
        """POST; when the device is busy with an action of this kind, fail naming it, or wait for it."""
        while True:
            try:
                return self._post(row)
            except DefenderError as exc:
                if not is_active_action_refusal(exc):
                    raise
                running = self._running(row)
                if self.on_active_action != "wait" or running is None:
                    raise self._busy_error(row, exc, running)
                self.actions.wait(running, max(0, deadline - ActionService.clock()), self.poll_interval,
                                  want=None)

    def _busy_error(self, row, exc, running):
        name = row.machine_name or (running or {}).get("computerDnsName") or row.given
        what = ("action %s (%s, %s)" % (running["id"], running.get("type"), running.get("status")) if running
                else "an action that is not visible to the API (it may have been started from the portal)")
        error = DefenderActiveActionError(
            "Device %s already has %s pending; the API refuses another %s until it ends." % (
                name, what, self.spec.action_type),
            status=exc.status, code=exc.code, api_message=exc.api_message, correlation_id=exc.correlation_id,
            method=exc.method, path=exc.path,
            hint="Set on_active_action=wait to run after it, or cancel it with secops.defender.defender_cancel_action.")
        error.running = running
        return error

    def _running(self, row):
        found = self.actions.list(machine_ids=[row.machine_id], types=list(self.spec.busy_types),
                                  statuses=list(ACTIVE))
        found.sort(key=lambda a: instant(a.get("creationDateTimeUtc")))
        return found[0] if found else None

    def _post(self, row):
        """Send once; when the outcome is unknown, look for the action over a short window before sending again."""
        path = "/api/machines/%s/%s" % (quote_segment(row.machine_id), self.spec.verb)
        body = dict(self.spec.body(self.options), ExternalID=external_id(self.spec, row.machine_id, self.options))
        first_error = None
        for attempt in (1, 2):
            try:
                return api_action(self.client.post(path, body), "machine action the API created")
            except DefenderOutcomeUnknownError as exc:
                first_error = first_error or exc
                found, looked = self._look_for_ours(row, body)
                if found is not None:
                    return found
        first_error.message = (
            "The outcome of %s on %s is unknown: %s It was sent twice, looked for for %d seconds after each "
            "attempt and not found, so it was most likely not made." % (
                self.spec.action_type, row.machine_name or row.given, first_error.message,
                looked))
        first_error.hint = ("Check the device's actions with secops.defender.defender_machine_action_info before "
                            "running the task again.")
        raise first_error

    def _look_window(self):
        # The API may commit a POST well after the client gave up on it: look for as long as a request may take.
        return max(LOOKUP_WINDOW_MIN, float(getattr(self.client, "timeout", 30) or 30))

    def _look_for_ours(self, row, body):
        """Look for the action a POST with an unknown outcome may have made; (action or None, seconds looked)."""
        started = ActionService.clock()
        delay = 1.0
        while True:
            # Any status: an action made by the lost request may have ended already (a short session); _is_ours
            # tells it by its externalID, or without one, by what the spec compares.
            for action in self.actions.list(machine_ids=[row.machine_id], types=[self.spec.action_type]):
                if self._is_ours(action, body):
                    return action, ActionService.clock() - started
            looked = ActionService.clock() - started
            if looked >= self._look_window():
                return None, looked
            ActionService.sleep(min(delay, self._look_window() - looked))
            delay *= 2

    def _is_ours(self, action, body):
        echoed = _external_id(action)
        if echoed:
            return echoed == body["ExternalID"]
        # Without an echoed id, only an action that could be this request's: not one seen before it, and for a
        # session (no dedupe, or one told by its request key), one still running with this request's comment.
        session = not self.spec.dedupe or self.spec.request_key is not None
        if action.get("status") not in (ACTIVE if session else COUNTS_AS_DONE):
            return False
        if action.get("id") in getattr(self, "before", ()):
            return False
        if session:
            return action.get("requestorComment") == body.get("Comment")
        return self.spec.equal(action, self.options)

    # --- wait ------------------------------------------------------------------------------------------
    def _watch(self, rows, submitting, finishing, finishers):
        """Poll until every device's action is final (or its wait ran out), handing each on as it ends."""
        step = 1.0
        was_submitting = True
        # While submitting, a poll takes a rate slot from a POST. It is worth it only when a device's end sets work
        # going (downloads) or frees a session slot that a waiting submission needs.
        poll_early = self.on_final is not None or self._slots is not None
        while True:
            # Submissions first: a row's action is set before its future is done, so none can slip through.
            submitted_all = all(f.done() for f in submitting)
            if submitted_all and was_submitting:
                # The last actions are fresh: look soon, then back off again. After a long fleet submission most
                # actions are already final, so the first look comes sooner.
                was_submitting, step = False, 1.0 if self.one_device else 0.5
            self._hand_on_final(rows, finishing, finishers)
            waiting = [r for r in rows if r.action is not None and not r.finished]
            if not waiting and submitted_all:
                return
            if not submitted_all and not poll_early:
                ActionService.sleep(0.2)
                continue
            ActionService.sleep(min(step, self.poll_interval))
            step = min(step * 2, self.poll_interval)
            waiting = [r for r in rows if r.action is not None and not r.finished]
            if waiting:
                try:
                    self._poll(waiting)
                except DefenderError as exc:
                    # One failed poll is not the end: the actions go on. Give up only when their wait runs out.
                    self.warnings.append("A poll failed and will be repeated: %s" % exc)
            now = ActionService.clock()
            for row in waiting:
                if not is_final(row.action) and row.deadline is not None and now > row.deadline:
                    row.fail(DefenderActionError(
                        "Action %s on %s is still %s after wait_timeout=%ss." % (
                            row.action["id"], row.machine_name or row.given, row.action["status"], self.wait_timeout),
                        hint="It goes on in Defender. Wait again with secops.defender.defender_machine_action_info,"
                             " or cancel it with secops.defender.defender_cancel_action."))

    def _hand_on_final(self, rows, finishing, finishers):
        for row in rows:
            if row.action is not None and not row.finished and is_final(row.action):
                row.finished = True
                finishing.append(finishers.submit(self._finish, row))

    def _finish(self, row):
        try:
            if self.spec.want and row.action.get("status") != self.spec.want:
                raise DefenderActionError(describe_failure(row.action))
            row._release()
            if self.on_final is not None:
                self.on_final(row)
        except DefenderError as exc:
            row.fail(exc)
        except Exception as exc:
            row.fail(DefenderError("Unexpected error while finishing: %s: %s" % (type(exc).__name__, exc)))
        finally:
            row._release()

    def _poll(self, waiting):
        if self.one_device:
            row = waiting[0]
            row.action = self.actions.get(row.action["id"])
            return
        oldest = min((r.action.get("creationDateTimeUtc") or "" for r in waiting), key=instant)
        ids = sorted(set(r.machine_id for r in waiting))
        query = all_of(eq("type", self.spec.action_type),
                       any_of("machineId", ids) if len(ids) <= MACHINE_FILTER_MAX else None,
                       "creationDateTimeUtc ge %s" % (oldest[:19] + "Z") if oldest else None)
        by_id = dict((a.get("id"), a) for a in self.client.paged("/api/machineactions", {"$filter": query}))
        for row in waiting:
            fresh = by_id.get(row.action["id"])
            if fresh is None:  # not in the list (it should be): read it on its own
                try:
                    fresh = self.actions.get(row.action["id"])
                except DefenderNotFoundError as exc:
                    row.fail(exc)
                    continue
            if (fresh.get("machineId") or "").lower() not in ("", row.machine_id):
                row.fail(DefenderResponseError("The API listed action %s under device %r, not %s; its results were "
                                               "not used." % (fresh["id"], fresh.get("machineId"), row.machine_id),
                                               field="machineId"))
                continue
            row.action = fresh

    # --- helpers ---------------------------------------------------------------------------------------
    def _each(self, rows, call):
        if len(rows) <= 1:
            for row in rows:
                call(row)
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for future in [pool.submit(call, row) for row in rows]:
                future.result()


def _external_id(action):
    return action.get("externalID") or action.get("externalId")


def external_id(spec, machine_id, options):
    """The ExternalID sent with a request: unique to this request (the API echoes it, so a look-up after an unknown
    outcome knows its action for certain), and for a spec with a request_key, also what makes it the same request
    (so a later run, after a crash, finds the session it started)."""
    value = "secops-defender:%s" % uuid.uuid4()
    if spec.request_key is not None:
        value += ":req=%s" % spec.request_key(machine_id, options)
    return value


def request_key_of(action):
    """The request key an action's echoed ExternalID carries, or None."""
    echoed = _external_id(action) or ""
    return echoed.rsplit(":req=", 1)[1] if ":req=" in echoed else None


def newest_equal(actions, machine_ids, spec, options):
    """{machine id: the newest action of `spec` on it whose status counts (pending, running or succeeded, unless
    the spec says otherwise) and that is equal to what `options` ask for}. Failed, TimeOut and Cancelled ones
    don't count: asking again is right then."""
    best = {}
    for action in _newest_first(actions):
        machine = (action.get("machineId") or "").lower()
        if (machine in machine_ids and machine not in best and action.get("type") == spec.action_type
                and action.get("status") in spec.counts and spec.equal(action, options)):
            best[machine] = action
    return best


def current_state(actions, machine_ids, spec, options):
    """{machine id: its newest pending, running or succeeded action of spec.state_types, when that one is of this
    spec's type and equal}: the device is already in the state asked for."""
    newest = {}
    for action in _newest_first(actions):
        machine = (action.get("machineId") or "").lower()
        if (machine in machine_ids and machine not in newest and action.get("type") in spec.state_types
                and action.get("status") in COUNTS_AS_DONE):
            newest[machine] = action
    return dict((m, a) for m, a in newest.items() if a.get("type") == spec.action_type and spec.equal(a, options))


def _newest_first(actions):
    return sorted(actions, key=lambda a: instant(a.get("creationDateTimeUtc")), reverse=True)


def run_action(client, spec, options, targets, single=True, check_mode=False, wait=True, wait_timeout=900,
               poll_interval=10, force=False, on_active_action="fail", concurrency=10, dedupe_lookback_days=30,
               fail_on_device_error=True, locks=None, on_final=None, max_active=None, lookback_seconds=None,
               after=None):
    """Run one machine action on the task's devices and return the module result, or raise DefenderActionError
    (carrying the result) when a single device failed, or any device of a list with fail_on_device_error.

    `after(rows)`, when given, sees every row once all of them are done, before the result is made."""
    engine = FleetEngine(client, spec, options, locks=locks, check_mode=check_mode, concurrency=concurrency,
                         dedupe_lookback_days=dedupe_lookback_days, max_active=max_active, on_final=on_final,
                         lookback_seconds=lookback_seconds)
    rows = engine.run(targets, wait=wait, wait_timeout=wait_timeout, poll_interval=poll_interval, force=force,
                      on_active_action=on_active_action)
    if after is not None and not check_mode:
        after(rows)
    client.warnings.extend(engine.warnings)
    result, failure = fleet_result(rows, single, fail_on_device_error)
    client.add_rate_budget(result)
    if failure:
        error = rows[0].error if single else shared_error([r.error for r in rows if r.failed and r.error])
        raise DefenderActionError(failure, result=dict(result, error=error) if error else result)
    return result


def fleet_result(rows, single, fail_on_device_error=True):
    """The module result: one row per device, the failed ones named, `changed` true if any device changed.

    Returns (result, failure message or None)."""
    results = [r.as_dict() for r in rows]
    failed = [r for r in results if r["failed"]]
    result = {
        "changed": any(r["changed"] for r in results),
        "results": results,
        "failed_machines": [r["machine"] for r in failed],
        "summary": _counts(results),
    }
    if single:
        only = results[0]
        result.update((k, v) for k, v in only.items() if k not in ("machine", "changed", "failed", "msg", "error"))
        action = rows[0].action
        result["machine_action"] = action
        if only["failed"]:
            return result, only["msg"]
        return result, None
    if failed and fail_on_device_error:
        return result, failure_message(failed, len(results))
    return result, None


def failure_message(failed, total, label="machine", noun="device"):
    """The task's message for failed rows: how many, and the first twenty with their reasons."""
    shown = "; ".join("%s: %s" % (r[label], r["msg"]) for r in failed[:20])
    more = " (and %d more)" % (len(failed) - 20) if len(failed) > 20 else ""
    return "%d of %d %s(s) failed: %s%s" % (len(failed), total, noun, shown, more)


def shared_error(errors):
    """When every failed device failed for the same coded reason (a spent budget, a missing permission), the task's
    `error` is that one (of these error dicts), so a playbook can branch on it; otherwise the rows tell."""
    codes = set(e.get("code") for e in errors)
    if errors and len(codes) == 1 and None not in codes:
        return errors[0]
    return None


def _counts(results):
    counts = {"devices": len(results), "submitted": 0, "already_done": 0, "would_submit": 0, "failed": 0}
    for row in results:
        if row["failed"]:
            counts["failed"] += 1
        elif row.get("adopted"):  # found, not submitted, even when its results were brought home
            counts["already_done"] += 1
        elif row["changed"] and row["action_id"]:
            counts["submitted"] += 1
        elif row["changed"]:
            counts["would_submit"] += 1
        else:
            counts["already_done"] += 1
    return counts
