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
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.secops.defender.plugins.module_utils._actions import (
    ACTIVE,
    ActionService,
    describe_failure,
    is_final,
)
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._clock import SYSTEM
from ansible_collections.secops.defender.plugins.module_utils import _action_lists as action_lists
from ansible_collections.secops.defender.plugins.module_utils._coalesce import (
    LIST_WINDOW,
    Gathering,
    NotShared,
    folder_of,
)
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
    target_list,
    get_by_id,
    not_found_message,
    resolve_names,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of
from ansible_collections.secops.defender.plugins.module_utils._prediction import (
    missing_permission,
    offline_warning,
    refusal,
)
from ansible_collections.secops.defender.plugins.module_utils._results import DEVICES, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._specs import (
    COUNTS_AS_DONE,
    _external_id,
    external_id,
)
from ansible_collections.secops.defender.plugins.module_utils._times import EARLIEST, instant
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action
from ansible_collections.secops.defender.plugins.module_utils._waiter import EndForecast, MACHINE_FILTER_MAX, Waiter

# The API's answers for a device whose platform or sensor version does not support the action.
PLATFORM_CODES = ("OsPlatformNotSupported", "ClientVersionNotSupported")
# How long a POST with an unknown outcome is looked for before it is sent once more (at least; see _look_window).
LOOKUP_WINDOW_MIN = 10
# How often a POST whose outcome stayed unknown is sent, each time after a look-up found nothing: under a fault mix
# (hung requests, expiring tokens) two sends gave up on 6% of devices; each send is safe, since the look-up before it
# proved the last one made nothing.
UNKNOWN_OUTCOME_SENDS = 4


class FleetRequest:
    """What a task asks of the engine, built once (from the task's options: from_params) and read by every step.

    targets           (given, "id"|"name") pairs (_machines.target_list)
    single            the task named one device (machine_id/machine_name): its row is also the task's result
    check_mode        predict, send nothing that changes state
    wait, wait_timeout, poll_interval   wait for each action to end, how long, how often
    force             submit even when an equal action is pending, running or succeeded
    on_active_action  fail|wait when the device is busy with an action of this kind
    concurrency       submissions (and downloads) at once
    lookback_seconds  how far back an equal action counts (dedupe_lookback_days, or a session's adopt_window)
    fail_on_device_error  fail the task when any device failed
    locks             the submit locks (_locks.SubmitLocks), or None
    on_final(row)     work to do as each device's action ends (downloads)
    max_active        at most this many of the task's actions running at once (live response sessions)
    after(rows)       sees every row once all are done, before the result is made (evidence checks)
    """

    def __init__(self, targets, single=True, check_mode=False, wait=True, wait_timeout=900, poll_interval=10,
                 force=False, on_active_action="fail", concurrency=10, dedupe_lookback_days=30, lookback_seconds=None,
                 fail_on_device_error=True, locks=None, on_final=None, max_active=None, after=None):
        self._settings = dict(
            single=single, check_mode=check_mode, wait=wait, wait_timeout=wait_timeout, poll_interval=poll_interval,
            force=force, on_active_action=on_active_action, concurrency=concurrency,
            dedupe_lookback_days=dedupe_lookback_days, lookback_seconds=lookback_seconds,
            fail_on_device_error=fail_on_device_error, locks=locks, on_final=on_final, max_active=max_active,
            after=after)
        self.targets = list(targets)
        self.single = single
        self.check_mode = check_mode
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.force = force
        self.on_active_action = on_active_action
        self.concurrency = max(1, int(concurrency))
        self.lookback_seconds = dedupe_lookback_days * 86400 if lookback_seconds is None else lookback_seconds
        self.fail_on_device_error = fail_on_device_error
        self.locks = locks
        self.on_final = on_final
        # Without a wait nothing would see the sessions end and free their slots.
        self.max_active = max_active if wait else None
        self.after = after

    @classmethod
    def from_params(cls, params, check_mode, locks=None, **extra):
        """The request of a module task (its options range-checked by DefenderModule.run)."""
        settings = dict(single=not params.get("machines"), check_mode=check_mode, wait=params["wait"],
                        wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"],
                        force=params.get("force") or False, on_active_action=params["on_active_action"],
                        concurrency=params["concurrency"],
                        dedupe_lookback_days=params.get("dedupe_lookback_days") or 30,
                        fail_on_device_error=params["fail_on_device_error"], locks=locks)
        settings.update(extra)
        targets = target_list(params.get("machine_id"), params.get("machine_name"), params.get("machines"))
        return cls(targets, **settings)

    def but(self, **changes):
        """A copy with some settings changed (what an action's own code adds: its downloads, its session limit)."""
        return FleetRequest(self.targets, **dict(self._settings, **changes))


def as_request(targets_or_request, **settings):
    """A FleetRequest as given, or one made of targets and settings (the form tests and scripts call with)."""
    if isinstance(targets_or_request, FleetRequest):
        return targets_or_request.but(**settings) if settings else targets_or_request
    return FleetRequest(targets_or_request, **settings)


class Row(ItemRow):
    """One device's line in the result."""

    def __init__(self, given, machine_id=None, machine_name=None):
        super(Row, self).__init__()
        self.given = given
        self.machine_id = machine_id
        self.machine_name = machine_name
        self.action = None
        self.deadline = None
        self.finished = False       # final status seen and handed on
        self.adopted = False        # its action was found (an earlier run's, or another task's), not submitted
        self.release = None         # called once when this device no longer holds a session slot
        self.machine = None         # the device's Machine entity, when it was read (by name, or in check mode)

    @staticmethod
    def result_keys():
        return ("action_id", "status", "machine_action")

    def fail(self, exc):
        super(Row, self).fail(exc)
        self.finished = True
        self._release()

    def _release(self):
        if self.release is not None:
            release, self.release = self.release, None
            release()

    def fields(self):
        action = self.action or {}
        return {
            "machine": self.given,
            "machine_id": self.machine_id or action.get("machineId"),
            "machine_name": self.machine_name or action.get("computerDnsName"),
            "action_id": action.get("id"),
            "status": action.get("status"),
        }


class FleetEngine:
    """Runs one ActionSpec for one FleetRequest. Its waits pass time on the client's clock (_clock.py)."""

    def __init__(self, client, spec, options, request=None):
        self.client = client
        self.spec = spec
        self.options = options
        self.request = request or FleetRequest([])
        self.clock = getattr(client, "clock", None) or SYSTEM
        self.actions = ActionService(client)
        self.waiter = Waiter(client)
        self.forecast = EndForecast()
        self._slots = threading.BoundedSemaphore(self.request.max_active) if self.request.max_active else None
        self.warnings = []
        self.query_started = time.time()
        self.settled = set()   # devices already in the state asked for, never having had an action of its pair
        self.before = set()    # the ids of the equal actions found before submitting
        self.states = {}       # with state_types: {machine id: its newest pending, running or succeeded action of them}
        self.one_device = False
        self.coalesced = {}    # {"lookup" or "poll": the role of this task's last shared query}, for tests

    # --- the template ------------------------------------------------------------------------------------
    def run(self):
        """One Row per target, in the order given."""
        request = self.request
        rows = self._resolve(request.targets)
        self.one_device = len(rows) == 1
        live = [r for r in rows if not r.failed]
        existing = self._find_equal(live)
        to_submit = []
        for row in live:
            found = existing.get(row.machine_id.lower())
            if found is not None and not request.force:
                self._adopt(row, found, "An equal action is already %s; nothing was submitted." % found["status"])
            elif row.machine_id.lower() in self.settled and not request.force:
                row.msg = "The device has no %s action, so it is already in that state; nothing was submitted." % (
                    " or ".join(self.spec.state_types))
            else:
                to_submit.append(row)
        self._warn_offline(live)
        if request.check_mode:
            forbidden = self._missing_permission() if to_submit else None
            for row in to_submit:
                refused = forbidden or refusal(self.spec, self.options, row.machine)
                if refused is not None:
                    row.fail(refused)
                    continue
                row.changed = True
                row.msg = "Would submit %s." % self.spec.action_type
            return rows
        self._submit_and_watch(rows, to_submit)
        if request.locks is not None:
            # Journal entries outlive their use after JOURNAL_LIFETIME: without this, every device and file ever
            # acted on would leave a lock file behind for good.
            request.locks.prune()
        return rows

    def _missing_permission(self):
        """The 403 the token's roles predict for this action, or None; the token is only decoded, never shown."""
        tokens = getattr(self.client, "tokens", None)
        try:
            token = tokens.token() if tokens is not None else None
        except DefenderError:
            return None
        return missing_permission(self.spec, token)

    def _warn_offline(self, rows):
        """At once, for each device whose record was read (by name, or every one in check mode) and that is not
        Active: its action waits in Defender's queue."""
        for row in rows:
            warning = offline_warning(self.spec, row.machine, self.request.check_mode)
            if warning:
                self.warnings.append(warning)

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
                        row.machine = matches[0]
                    else:
                        row.fail(DefenderInputError(ambiguous_message(row.given, matches) if matches
                                                    else not_found_message(row.given)))
        if self.request.check_mode:
            # Nothing is submitted, so nothing else would tell that an id is unknown: read each one.
            self._each([r for r in rows if not r.failed and r.machine_name is None], self._read_machine)
        seen = {}
        for row in rows:
            if not row.failed and row.machine_id in seen:
                first = seen[row.machine_id]
                row.machine_name = row.machine_name or first.machine_name   # the same device: its name is known
                row.fail(DefenderInputError("%s is the same device as %s, listed earlier; it is acted on once."
                                            % (row.given, first.given)))
            elif not row.failed:
                seen[row.machine_id] = row
        return rows

    def _read_machine(self, row):
        try:
            machine = get_by_id(self.client, row.machine_id)
            row.machine_name = machine.get("computerDnsName")
            row.machine = machine
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
        if self.spec.state_types:
            actions = self._equal_actions(ids, self.spec.state_types, COUNTS_AS_DONE, None)
            self.states = newest_state(actions, ids, self.spec.state_types)
            best = current_state(actions, ids, self.spec, self.options)
            if self.spec.settled_without_history:
                seen = set((a.get("machineId") or "").lower() for a in actions)
                self.settled = ids - seen
        else:
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - self.request.lookback_seconds))
            actions = self._full(self._equal_actions(ids, [self.spec.action_type], self.spec.counts, since), ids)
            best = newest_equal(actions, ids, self.spec, self.options)
        for action in best.values():  # an id that will be used in paths and URLs: checked by shape first
            api_action(action, "listed machine action")
        self.before = set(a["id"] for a in best.values())
        return best

    # --- shared with the concurrent one-device tasks of this controller (_coalesce.py) -----------------
    def _shared_lists(self):
        """The Gathering of the one-device tasks of this controller that list actions of this spec's types (their
        look-ups and their polls alike: _action_lists.py), or None (other locks, or none)."""
        folder = folder_of(self.request.locks)
        if folder is None or not self.spec.dedupe:
            return None
        family = ",".join(sorted(self.spec.state_types or (self.spec.action_type,)))
        return Gathering(folder, LIST_WINDOW, self.request.locks.scope_key, "list", family)

    def _learn_durations(self, answer):
        """How long the other tasks' actions of this type took, from a shared answer (EndForecast)."""
        for action in answer["actions"]:
            if isinstance(action, dict) and action.get("type") == self.spec.action_type:
                self.forecast.note_ended(action)

    def _equal_actions(self, ids, types, statuses, since):
        """The listed actions that may be equal, setting query_started: the moment their query was sent. A
        one-device task shares the query of the tasks of this controller that ask at the same moment, and only one
        sent after it asked (_coalesce.py): never an answer older than its own would be."""
        gathering = self._shared_lists() if len(ids) == 1 else None
        if gathering is not None:
            wanted = action_lists.need(ids, types, since, statuses)
            # Only NotShared (or an answer out of shape) means a look-up of its own; the query this task sent for
            # the others fails it as its own would.
            try:
                answer, sent = gathering.share(wanted, lambda needs: action_lists.send(self.client, needs))
                if not action_lists.covers(answer, wanted):
                    raise NotShared()
                actions = action_lists.picked(answer, wanted)
                self.coalesced["lookup"], self.query_started = gathering.role, sent
                self._learn_durations(answer)
                return actions
            except NotShared:
                pass
            except (DefenderResponseError, TypeError):
                if gathering.role != "member":
                    raise
        self.query_started = time.time()
        machines = any_of("machineId", sorted(ids)) if len(ids) <= MACHINE_FILTER_MAX else None
        query = all_of(any_of("type", list(types)), machines, any_of("status", list(statuses)),
                       "creationDateTimeUtc ge %s" % since if since else None)
        return list(self.client.paged("/api/machineactions", {"$filter": query}))

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
        row.deadline = self.clock.monotonic() + self.request.wait_timeout

    # --- submit ----------------------------------------------------------------------------------------
    def _submit_and_watch(self, rows, to_submit):
        concurrency = self.request.concurrency
        with ThreadPoolExecutor(max_workers=concurrency) as submitters, \
                ThreadPoolExecutor(max_workers=concurrency) as finishers:
            submitting = [submitters.submit(self._submit_one, row) for row in to_submit]
            finishing = []
            if self.request.wait:
                self._watch(rows, submitting, finishing, finishers)
            for future in submitting + finishing:
                future.result()
        if not self.request.wait:
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
            if getattr(exc, "generic", False):  # the client's words only: say which action and device
                exc.message = "The API refused %s on %s." % (self.spec.action_type, row.machine_name or row.given)
            if exc.code in PLATFORM_CODES and self.spec.platforms and not exc.hint:
                exc.hint = "%s runs on %s only." % (self.spec.action_type, self.spec.platforms)
            row.fail(exc)
        except Exception as exc:  # a bug must not hang the other devices; report it on this row
            row.fail(DefenderError("Unexpected error while submitting: %s: %s" % (type(exc).__name__, exc)))

    def _submit_locked(self, row):
        key = self.spec.key(self.options)
        if self.request.locks is None:
            self._submit_row(row, None)
            return
        with self.request.locks.hold(row.machine_id, self.spec.action_type, key) as journal:
            self._submit_row(row, journal)

    def _submit_row(self, row, journal):
        if journal is not None and self.spec.dedupe and not self.request.force:
            recorded = journal.newer_than(self.query_started)
            if recorded is not None:  # another task submitted it after our look-up
                api_action(recorded, "journaled machine action")
                self._adopt(row, recorded, "An equal action was submitted meanwhile by another task; nothing "
                                           "was submitted.")
                row._release()
                return
        deadline = self.clock.monotonic() + self.request.wait_timeout
        action = self._post_when_free(row, deadline)
        if journal is not None:
            journal.record(action)
        row.action, row.changed = action, True
        row.machine_name = row.machine_name or action.get("computerDnsName")
        row.deadline = self.clock.monotonic() + self.request.wait_timeout
        self.forecast.note_created(action, self.clock.monotonic())

    def _post_when_free(self, row, deadline):
        """POST; when the device is busy with an action of this kind, fail naming it, or wait for it. When the
        look-up after a refusal finds nothing running, the busy action ended in between (a short one, or a slow
        controller): the POST is sent once more, and only a second refusal with nothing visible fails."""
        stale_refusal_resent = False
        while True:
            try:
                return self._post(row)
            except DefenderError as exc:
                if not is_active_action_refusal(exc):
                    raise
                running = self._running(row)
                if running is None and not stale_refusal_resent:
                    stale_refusal_resent = True
                    continue
                if self.request.on_active_action != "wait" or running is None:
                    raise self._busy_error(row, exc, running)
                self.actions.wait(running, max(0, deadline - self.clock.monotonic()), self.request.poll_interval,
                                  want=None)
                stale_refusal_resent = False

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
        """Send; when the outcome is unknown, look for the action over a short window, and send again only once
        the look-up found nothing (so nothing was made). At most UNKNOWN_OUTCOME_SENDS sends."""
        path = "/api/machines/%s/%s" % (quote_segment(row.machine_id), self.spec.verb)
        body = dict(self.spec.body(self.options), ExternalID=external_id(self.spec, row.machine_id, self.options))
        first_error, looked = None, 0.0
        for dummy in range(UNKNOWN_OUTCOME_SENDS):
            try:
                return api_action(self.client.post(path, body), "machine action the API created")
            except DefenderOutcomeUnknownError as exc:
                first_error = first_error or exc
                found, seconds = self._look_for_ours(row, body)
                looked = max(looked, seconds)
                if found is not None:
                    return found
        first_error.message = (
            "The outcome of %s on %s is unknown: %s It was sent %d times, looked for for %d seconds after each "
            "attempt and not found, so it was most likely not made." % (
                self.spec.action_type, row.machine_name or row.given, first_error.message, UNKNOWN_OUTCOME_SENDS,
                looked))
        first_error.hint = ("Check the device's actions with secops.defender.defender_machine_action_info before "
                            "running the task again.")
        raise first_error

    def _look_window(self):
        # The API may commit a POST well after the client gave up on it: look for as long as a request may take.
        return max(LOOKUP_WINDOW_MIN, float(getattr(self.client, "timeout", 30) or 30))

    def _look_for_ours(self, row, body):
        """Look for the action a POST with an unknown outcome may have made; (action or None, seconds looked)."""
        started = self.clock.monotonic()
        delay = 1.0
        while True:
            # Any status: an action made by the lost request may have ended already (a short session); _is_ours
            # tells it by its externalID, or without one, by what the spec compares.
            for action in self.actions.list(machine_ids=[row.machine_id], types=[self.spec.action_type]):
                if self._is_ours(action, body):
                    return action, self.clock.monotonic() - started
            looked = self.clock.monotonic() - started
            if looked >= self._look_window():
                return None, looked
            self.clock.sleep(min(delay, self._look_window() - looked))
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
        if action.get("id") in self.before:
            return False
        if session:
            return action.get("requestorComment") == body.get("Comment")
        return self.spec.equal(action, self.options)

    # --- wait ------------------------------------------------------------------------------------------
    def _watch(self, rows, submitting, finishing, finishers):
        """Poll until every device's action is final (or its wait ran out), handing each on as it ends."""
        step = 1.0
        was_submitting, first_poll = True, False
        # While submitting, a poll takes a rate slot from a POST. It is worth it only when a device's end sets work
        # going (downloads) or frees a session slot that a waiting submission needs.
        poll_early = self.request.on_final is not None or self._slots is not None
        while True:
            # Submissions first: a row's action is set before its future is done, so none can slip through.
            submitted_all = all(f.done() for f in submitting)
            if submitted_all and was_submitting:
                # The last actions are fresh: look soon, then back off again. After a long fleet submission most
                # actions are already final, so the first look comes sooner.
                was_submitting, step = False, 1.0 if self.one_device else 0.5
                first_poll = True
            self._hand_on_final(rows, finishing, finishers)
            waiting = [r for r in rows if r.action is not None and not r.finished]
            if not waiting and submitted_all:
                return
            if not submitted_all and not poll_early:
                self.clock.sleep(0.2)
                continue
            self.clock.sleep(self._next_poll_in(rows, step, first_poll))
            step, first_poll = min(step * 2, self.request.poll_interval), False
            waiting = [r for r in rows if r.action is not None and not r.finished]
            if waiting:
                try:
                    self._poll(waiting)
                except DefenderError as exc:
                    # One failed poll is not the end: the actions go on. Give up only when their wait runs out.
                    self.warnings.append("A poll failed and will be repeated: %s" % exc)
            now = self.clock.monotonic()
            for row in waiting:
                if not is_final(row.action) and row.deadline is not None and now > row.deadline:
                    row.fail(DefenderActionError(
                        "Action %s on %s is still %s after wait_timeout=%ss." % (
                            row.action["id"], row.machine_name or row.given, row.action["status"],
                            self.request.wait_timeout),
                        hint="It goes on in Defender. Wait again with secops.defender.defender_machine_action_info,"
                             " or cancel it with secops.defender.defender_cancel_action."))

    def _next_poll_in(self, rows, step, first_poll=False):
        """The back-off's step, or less when the open actions should end sooner (EndForecast). A one-device task
        that shares its lists with other tasks learns from their ended actions how long one takes: its first poll
        after submitting waits for its action's forecast end (within poll_interval) rather than looking at once,
        which in a per-host play would cost a list round for an action not yet done."""
        wait = min(step, self.request.poll_interval)
        open_actions = [r.action for r in rows if r.action is not None and not r.finished and not r.adopted]
        end = self.forecast.expected_end(open_actions) if open_actions else None
        if end is None:
            return wait
        until = end - self.clock.monotonic()
        if 0 < until < wait or (first_poll and self.one_device and wait < until <= self.request.poll_interval):
            return until
        return wait

    def _hand_on_final(self, rows, finishing, finishers):
        for row in rows:
            if row.action is not None and not row.finished and is_final(row.action):
                if not row.adopted:
                    self.forecast.note_ended(row.action)
                row.finished = True
                finishing.append(finishers.submit(self._finish, row))

    def _finish(self, row):
        try:
            if self.spec.want and row.action.get("status") != self.spec.want:
                raise DefenderActionError(describe_failure(row.action))
            row._release()
            if self.request.on_final is not None:
                self.request.on_final(row)
        except DefenderError as exc:
            row.fail(exc)
        except Exception as exc:
            row.fail(DefenderError("Unexpected error while finishing: %s: %s" % (type(exc).__name__, exc)))
        finally:
            row._release()

    def _poll(self, waiting):
        fresh = self._poll_actions([r.action for r in waiting])
        for row in waiting:
            action = fresh.get(row.action["id"])
            if action is None:
                row.fail(DefenderNotFoundError("Action %s on %s is no longer known to the API." % (
                    row.action["id"], row.machine_name or row.given), method="GET", path="/api/machineactions"))
                continue
            if (action.get("machineId") or "").lower() not in ("", row.machine_id):
                row.fail(DefenderResponseError("The API listed action %s under device %r, not %s; its results were "
                                               "not used." % (action["id"], action.get("machineId"), row.machine_id),
                                               field="machineId"))
                continue
            row.action = action

    def _poll_actions(self, actions):
        """{action id: action}. One action shares the list query of the tasks of this controller that list this
        spec's actions at the same moment (their polls and their look-ups), sent after this one asked
        (_coalesce.py); several are one list query of their own anyway."""
        gathering = self._shared_lists() if len(actions) == 1 else None
        mine = actions[0]
        created = mine.get("creationDateTimeUtc") or ""
        if gathering is None or instant(created) == EARLIEST or not mine.get("machineId"):
            return self.waiter.poll(actions)
        wanted = action_lists.need([mine["machineId"]], [mine.get("type") or self.spec.action_type],
                                   created[:19] + "Z")
        try:
            answer, dummy = gathering.share(wanted, lambda needs: action_lists.send(self.client, needs))
            self.coalesced["poll"] = gathering.role
            if not action_lists.covers(answer, wanted):
                raise NotShared()
            found = [a for a in action_lists.picked(answer, wanted) if a["id"] == mine["id"]]
            if not found:
                raise NotShared()   # gone, or left out: its own poll says which
            found = found[0]
            self._learn_durations(answer)
        except NotShared:
            return self.waiter.poll(actions)
        except (DefenderResponseError, TypeError):
            if gathering.role != "member":
                raise   # the poll this task sent for the others: its failure is this task's, as its own poll's
            return self.waiter.poll(actions)
        self.waiter.note_progress([found])
        return {mine["id"]: found}

    # --- helpers ---------------------------------------------------------------------------------------
    def _each(self, rows, call):
        if len(rows) <= 1:
            for row in rows:
                call(row)
            return
        with ThreadPoolExecutor(max_workers=self.request.concurrency) as pool:
            for future in [pool.submit(call, row) for row in rows]:
                future.result()


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


def newest_state(actions, machine_ids, state_types):
    """{machine id: its newest pending, running or succeeded action of `state_types`}: the device's state."""
    newest = {}
    for action in _newest_first(actions):
        machine = (action.get("machineId") or "").lower()
        if (machine in machine_ids and machine not in newest and action.get("type") in state_types
                and action.get("status") in COUNTS_AS_DONE):
            newest[machine] = action
    return newest


def current_state(actions, machine_ids, spec, options):
    """{machine id: its newest pending, running or succeeded action of spec.state_types, when that one is of this
    spec's type and equal}: the device is already in the state asked for."""
    newest = newest_state(actions, machine_ids, spec.state_types)
    return dict((m, a) for m, a in newest.items() if a.get("type") == spec.action_type and spec.equal(a, options))


def _newest_first(actions):
    return sorted(actions, key=lambda a: instant(a.get("creationDateTimeUtc")), reverse=True)


def run_action(client, spec, options, request, diff=None, **settings):
    """Run one machine action for a FleetRequest (or targets and FleetRequest settings) and return the module
    result, or raise DefenderActionError (carrying the result) when a single device failed, or any device of a list
    with fail_on_device_error. `diff(rows, states)`, when given, makes the result's `diff` from the rows and the
    devices' states as they were before (FleetEngine.states)."""
    request = as_request(request, **settings)
    engine = FleetEngine(client, spec, options, request)
    rows = engine.run()
    if request.after is not None and not request.check_mode:
        request.after(rows)
    client.warnings.extend(engine.warnings)
    extra = {"diff": diff(rows, engine.states)} if diff is not None else {}
    return device_results(rows, request.single, request.fail_on_device_error, client=client, extra=extra)


def device_results(rows, single, fail_on_device_error=True, client=None, extra=None):
    """The module result of device Rows (_results.finish): for one device, its keys and its action at the top;
    `extra` keys (a diff) on the result, failed or not."""
    results = [r.as_dict() for r in rows]
    skipped = ("machine", "changed", "failed", "msg", "error")
    top = [k for k in (results[0] if single and results else {}) if k not in skipped]
    try:
        result = finish(results, DEVICES, _counts(results), single=single, top_keys=top,
                        fail_on_error=fail_on_device_error, client=client)
    except DefenderActionError as exc:
        if single:
            exc.result["machine_action"] = rows[0].action
        exc.result.update(extra or {})
        raise
    if single:
        result["machine_action"] = rows[0].action
    result.update(extra or {})
    return result


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
