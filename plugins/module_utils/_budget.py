# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the tenant-wide rate budget shared by every process on the controller.

Every API call takes a slot from the budget *before* it is sent, so a fleet spreads its calls over the documented
limits instead of spending the hourly budget and then failing. The budget is a file beside the token cache, under a
lock, keyed by tenant, app and API host, so forks and parallel plays share it. A 429 seen by anyone pauses everyone
until its Retry-After.

The API counts calls in sliding windows, so the budget keeps the times of the recent calls (one list per endpoint
class) rather than a token bucket: a bucket with the same nominal rate lets through up to twice the limit in one
window. A call is recorded when it is reserved and its time is moved to when its answer arrived; the server saw it
no later than that, so the next window's first call can never reach the server early.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import contextlib
import hashlib
import json
import math
import os
import re
import threading
import time
import uuid

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError, DefenderRateLimitError
from ansible_collections.secops.defender.plugins.module_utils._state_file import (
    exclusive,
    private_dir,
    read_json,
    write_json,
)

# class -> [[calls, window seconds], ...], as each API's page on Microsoft Learn states them, e.g.
# https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine ("Limitations": 100 calls per minute and
# 1500 calls per hour), https://learn.microsoft.com/en-us/defender-endpoint/api/run-live-response (10 per minute) and
# https://learn.microsoft.com/en-us/defender-endpoint/api/get-package-sas-uri (2 per minute, 120 per hour) and
# https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts (10 per minute, 500 per hour). A PATCH
# of one alert ("Update alert": 100 per minute, 1500 per hour) has the default's limits and shares its class.
# https://learn.microsoft.com/en-us/defender-endpoint/api/run-advanced-query-api (45 per minute, 1500 per hour),
# https://learn.microsoft.com/en-us/defender-endpoint/api/initiate-autoir-investigation (50 per hour),
# https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators (30 per minute) and
# https://learn.microsoft.com/en-us/defender-endpoint/api/batch-delete-ti-indicators (30 per minute).
DEFAULT_LIMITS = {
    "default": [[100, 60], [1500, 3600]],
    "runliveresponse": [[10, 60]],
    "getpackageuri": [[2, 60], [120, 3600]],
    "alertbatchupdate": [[10, 60], [500, 3600]],
    "advancedqueries": [[45, 60], [1500, 3600]],
    "startinvestigation": [[50, 3600]],
    "indicatorimport": [[30, 60]],
    "indicatorbatchdelete": [[30, 60], [1500, 3600]],
}
# Endpoints whose limits are their own, by the path's ending (case-insensitive, whatever the method); everything
# else shares "default".
_CLASS_SUFFIXES = (("/runliveresponse", "runliveresponse"), ("/getpackageuri", "getpackageuri"),
                   ("/alerts/batchupdate", "alertbatchupdate"), ("/advancedqueries/run", "advancedqueries"),
                   ("/startinvestigation", "startinvestigation"), ("/indicators/import", "indicatorimport"),
                   ("/indicators/batchdelete", "indicatorbatchdelete"))
# The entity routes: each Learn page (get-file-information, get-file-statistics, get-ip-statistics,
# get-domain-related-machines, get-user-related-alerts, get-machine-log-on-users, get-alert-related-files-info, ...)
# states "100 calls per minute and 1500 calls per hour" for that API alone; the class names are the emulator's.
_ENTITY_ROUTE = re.compile(r"/api/(files|ips|domains|users|machines|alerts)/[^/]+(?:/([a-z]+))?$")
_ENTITY_CLASSES = {
    ("files", None): "files", ("files", "stats"): "file_stats", ("files", "machines"): "file_machines",
    ("files", "alerts"): "file_alerts", ("ips", "stats"): "ip_stats", ("ips", "alerts"): "ip_alerts",
    ("domains", "stats"): "domain_stats", ("domains", "machines"): "domain_machines",
    ("domains", "alerts"): "domain_alerts", ("users", "machines"): "user_machines", ("users", "alerts"): "user_alerts",
    ("machines", "logonusers"): "logonusers", ("machines", "alerts"): "machine_alerts",
    ("alerts", "files"): "alert_files", ("alerts", "ips"): "alert_ips", ("alerts", "domains"): "alert_domains",
    ("alerts", "user"): "alert_user", ("alerts", "machine"): "alert_machine",
}
DEFAULT_LIMITS.update((klass, [[100, 60], [1500, 3600]]) for klass in _ENTITY_CLASSES.values())
# A reserved call whose answer never came (the process died) stops counting as in flight after this long.
IN_FLIGHT_GRACE = 120
# The bound of a pause given without one (and of one an older release wrote): the default max_retry_wait.
LEGACY_PAUSE_BOUND = 3600


def rate_class(path):
    """The endpoint class of an API path: matched on how the path ends, in any case and for any method."""
    lowered = (path or "").lower().split("?", 1)[0].rstrip("/")
    for suffix, klass in _CLASS_SUFFIXES:
        if lowered.endswith(suffix):
            return klass
    route = _ENTITY_ROUTE.search(lowered)
    return _ENTITY_CLASSES.get(route.groups(), "default") if route else "default"


def parse_limits(value):
    """DEFAULT_LIMITS with the user's overrides (a dict, or its JSON text) merged in, checked."""
    limits = dict((k, [list(w) for w in v]) for k, v in DEFAULT_LIMITS.items())
    if not value:
        return limits
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise DefenderInputError("rate_limits must be a dict (or its JSON text), like "
                                     '{"default": [[100, 60], [1500, 3600]]}.')
    if not isinstance(value, dict):
        raise DefenderInputError("rate_limits must be a dict of endpoint class to [[calls, seconds], ...].")
    for klass, windows in value.items():
        if klass not in DEFAULT_LIMITS:
            raise DefenderInputError("rate_limits: unknown endpoint class %r (known: %s)."
                                     % (klass, ", ".join(sorted(DEFAULT_LIMITS))))
        try:
            checked = [[int(calls), float(seconds)] for calls, seconds in windows]
        except (TypeError, ValueError):
            checked = None
        if not checked or any(calls < 1 or seconds <= 0 for calls, seconds in checked):
            raise DefenderInputError("rate_limits[%s] must be a list of [calls, seconds] pairs, each at least "
                                     "1 call in more than 0 seconds, not %r." % (klass, windows))
        limits[klass] = checked
    return limits


def budget_key(tenant_id, client_id, api_url):
    raw = "\n".join([(tenant_id or "").lower(), (client_id or "").lower(), (api_url or "").lower().rstrip("/")])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class RateBudget:
    """Sliding-window pacing shared through a locked file. `reserve()` before a call, `done()` after it."""

    def __init__(self, directory, key, limits=None, clock=time.time, sleep=time.sleep):
        self.directory = directory
        self.path = os.path.join(directory, "budget-%s.json" % key)
        self.limits = limits or parse_limits(None)
        self._clock = clock
        self._sleep = sleep
        # Threads of one process queue here rather than on the file lock: a thread woken by flock must still win
        # the GIL, and ten of them convoying on it cut throughput tenfold.
        self._thread_lock = threading.Lock()
        # What this process saw, for the module's report (shown at -v).
        self.stats = {"calls": 0, "paced_calls": 0, "paced_seconds": 0.0, "rate_limited": 0}

    # --- the file ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        with self._thread_lock:
            with exclusive(os.path.join(private_dir(self.directory), os.path.basename(self.path) + ".lock")):
                state = read_json(self.path)
                state.setdefault("calls", {})
                state.setdefault("pause", {})
                yield state
                write_json(self.path, state, separators=(",", ":"))

    # --- the arithmetic -----------------------------------------------------------------------------
    def _windows(self, klass):
        return self.limits.get(klass) or self.limits["default"]

    def _log(self, state, klass, now):
        """The class's call log, tidied: {"done": [answer times, ascending], "open": {ticket: [sent, until]}}.

        A call still in flight counts as answered now; one whose answer never came (its process died) counts as
        answered at its `until`."""
        log = state["calls"].get(klass)
        if not isinstance(log, dict):
            log = {"done": [], "open": {}}
        longest = max(seconds for dummy, seconds in self._windows(klass))
        for token, (dummy, until) in list(log["open"].items()):
            if until <= now:
                bisect.insort(log["done"], until)
                del log["open"][token]
        done = log["done"]
        del done[:bisect.bisect_right(done, now - longest)]
        state["calls"][klass] = log
        return log

    @staticmethod
    def _pause_until(state, klass, now):
        """When the recorded 429 pause of `klass` ends (0 for none). A pause is [until, bound]: it was recorded at
        most `bound` seconds ahead, so one reaching further (a hostile Retry-After kept by an older release, an
        infinity, a hand edit) is past its own bound, and this task clears it."""
        entry = state["pause"].get(klass)
        if not isinstance(entry, list):
            entry = [entry, LEGACY_PAUSE_BOUND]
        try:
            until, bound = float(entry[0] or 0), float(entry[1])
        except (TypeError, ValueError, IndexError):
            until, bound = 0.0, 0.0
        if not (math.isfinite(until) and math.isfinite(bound)) or until - now > bound:
            state["pause"].pop(klass, None)
            return 0.0
        return until

    def _wait_needed(self, state, klass, now):
        """Seconds until one more call of `klass` fits every window (0 when it fits now)."""
        log = self._log(state, klass, now)
        done, in_flight = log["done"], len(log["open"])
        wait = max(0.0, self._pause_until(state, klass, now) - now)
        for calls, seconds in self._windows(klass):
            recent = done[bisect.bisect_right(done, now - seconds):]
            count = len(recent) + in_flight
            if count >= calls:
                # The call that must leave the window first; calls in flight (counted as now) are the newest.
                position = count - calls
                oldest = recent[position] if position < len(recent) else now
                wait = max(wait, oldest + seconds - now)
        return wait

    # --- the interface --------------------------------------------------------------------------------
    def reserve(self, klass, max_wait, timeout=60):
        """Wait for a slot (at most `max_wait` seconds in all) and take it. Returns a ticket for `done()`."""
        waited = 0.0
        while True:
            with self._locked() as state:
                now = self._clock()
                wait = self._wait_needed(state, klass, now)
                if wait <= 0:
                    token = uuid.uuid4().hex[:12]
                    state["calls"][klass]["open"][token] = [round(now, 3), round(now + timeout + IN_FLIGHT_GRACE, 3)]
                    self.stats["calls"] += 1
                    if waited:
                        self.stats["paced_calls"] += 1
                        self.stats["paced_seconds"] += waited
                    return (klass, token)
            if waited + wait > max_wait:
                refill = time.strftime("%H:%M:%S", time.localtime(now + wait))
                raise DefenderRateLimitError(
                    "The tenant's rate budget for %s calls is spent until %s (in %d seconds); this request may "
                    "wait at most %d seconds (max_retry_wait)." % (
                        "these" if klass == "default" else klass, refill, int(wait + 0.999), int(max_wait)),
                    code="RateBudgetSpent",
                    hint="Raise max_retry_wait to let the task wait for the budget, run fewer devices per hour, or "
                         "run again after %s. The limits in use are %s." % (refill, self._windows(klass)))
            # Sleep in short steps: another process may free or take the slot meanwhile.
            step = min(wait, 5.0) + 0.005
            self._sleep(step)
            waited += step

    def done(self, ticket):
        """The answer arrived: the call counts from now on, when the server had certainly seen it."""
        klass, token = ticket
        with self._locked() as state:
            now = self._clock()
            log = self._log(state, klass, now)
            if log["open"].pop(token, None) is not None:
                bisect.insort(log["done"], round(now, 3))

    def pause(self, klass, seconds, bound=None):
        """A 429 said to wait: every process holds its calls of `klass` until then, `bound` seconds at most (the
        caller's max_retry_wait), so that no answer can hold the controller for longer than a task would wait."""
        self.stats["rate_limited"] += 1
        with self._locked() as state:
            now = self._clock()
            bound = max(0.0, float(LEGACY_PAUSE_BOUND if bound is None else bound))
            seconds = float(seconds or 0)
            until = now + (min(max(0.0, seconds), bound) if math.isfinite(seconds) else 0.0)
            if until > self._pause_until(state, klass, now):
                state["pause"][klass] = [round(until, 3), bound]

    def report(self):
        return dict(self.stats, paced_seconds=round(self.stats["paced_seconds"], 1))
