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

# The windows most of Learn's pages state, each "for this API": 100 calls per minute and 1500 calls per hour.
STANDARD = [[100, 60], [1500, 3600]]
_LEARN = "https://learn.microsoft.com/defender-endpoint/api/"
# (method, route under /api, class, Learn page): each API is counted on its own, as its page's "Limitations" says
# ("Rate limitations for this API are ..."). `{}` is one path segment. Unknown routes share "default".
ROUTES = (
    ("POST", "machines/{}/isolate", "isolate", "isolate-machine"),
    ("POST", "machines/{}/unisolate", "unisolate", "unisolate-machine"),
    ("POST", "machines/{}/restrictcodeexecution", "restrictcodeexecution", "restrict-code-execution"),
    ("POST", "machines/{}/unrestrictcodeexecution", "unrestrictcodeexecution", "unrestrict-code-execution"),
    ("POST", "machines/{}/stopandquarantinefile", "stopandquarantinefile", "stop-and-quarantine-file"),
    ("POST", "machines/{}/runantivirusscan", "runantivirusscan", "run-av-scan"),
    ("POST", "machines/{}/collectinvestigationpackage", "collectinvestigationpackage",
     "collect-investigation-package"),
    ("POST", "machines/{}/offboard", "offboard", "offboard-machine-api"),
    ("POST", "machines/{}/runliveresponse", "runliveresponse", "run-live-response"),
    ("POST", "machines/{}/startinvestigation", "startinvestigation", "initiate-autoir-investigation"),
    ("POST", "machines/{}/tags", "machinetags", "add-or-remove-machine-tags"),
    ("POST", "machines/addorremovetagformultiplemachines", "machinetagsbatch", "add-or-remove-multiple-machine-tags"),
    ("GET", "machines", "listmachines", "get-machines"),
    ("GET", "machines/findbytag", "findbytag", "find-machines-by-tag"),
    ("GET", "machines/findbyip(*)", "findbyip", "find-machines-by-ip"),
    ("GET", "machines/{}/logonusers", "logonusers", "get-machine-log-on-users"),
    ("GET", "machines/{}/alerts", "machine_alerts", "get-machine-related-alerts"),
    ("GET", "machines/{}", "getmachine", "get-machine-by-id"),
    ("GET", "machineactions", "listmachineactions", "get-machineactions-collection"),
    ("GET", "machineactions/{}/getpackageuri", "getpackageuri", "get-package-sas-uri"),
    ("GET", "machineactions/{}/getliveresponseresultdownloadlink(*)", "liveresponseresult",
     "get-live-response-result"),
    ("GET", "machineactions/{}", "getmachineaction", "get-machineaction-object"),
    ("POST", "machineactions/{}/cancel", "cancelmachineaction", "cancel-machine-action"),
    ("GET", "alerts", "listalerts", "get-alerts"),
    ("POST", "alerts/batchupdate", "alertbatchupdate", "batch-update-alerts"),
    ("GET", "alerts/{}", "getalert", "get-alert-info-by-id"),
    ("PATCH", "alerts/{}", "alertupdate", "update-alert"),
    ("GET", "alerts/{}/files", "alert_files", "get-alert-related-files-info"),
    ("GET", "alerts/{}/ips", "alert_ips", "get-alert-related-ip-info"),
    ("GET", "alerts/{}/domains", "alert_domains", "get-alert-related-domain-info"),
    ("GET", "alerts/{}/user", "alert_user", "get-alert-related-user-info"),
    ("GET", "alerts/{}/machine", "alert_machine", "get-alert-related-machine-info"),
    ("GET", "investigations", "listinvestigations", "get-investigation-collection"),
    ("GET", "investigations/{}", "getinvestigation", "get-investigation-object"),
    ("GET", "indicators", "listindicators", "get-ti-indicators-collection"),
    ("POST", "indicators", "submitindicator", "post-ti-indicator"),
    ("POST", "indicators/import", "indicatorimport", "import-ti-indicators"),
    ("POST", "indicators/batchdelete", "indicatorbatchdelete", "batch-delete-ti-indicators"),
    ("DELETE", "indicators/{}", "deleteindicator", "delete-ti-indicator-by-id"),
    ("GET", "libraryfiles", "listlibrary", "list-library-files"),
    ("POST", "libraryfiles", "uploadlibrary", "upload-library"),
    ("DELETE", "libraryfiles/{}", "deletelibrary", "delete-library"),
    ("POST", "advancedqueries/run", "advancedqueries", "run-advanced-query-api"),
    ("GET", "files/{}", "files", "get-file-information"),
    ("GET", "files/{}/stats", "file_stats", "get-file-statistics"),
    ("GET", "files/{}/machines", "file_machines", "get-file-related-machines"),
    ("GET", "files/{}/alerts", "file_alerts", "get-file-related-alerts"),
    ("GET", "ips/{}/stats", "ip_stats", "get-ip-statistics"),
    ("GET", "ips/{}/alerts", "ip_alerts", "get-ip-related-alerts"),
    ("GET", "domains/{}/stats", "domain_stats", "get-domain-statistics"),
    ("GET", "domains/{}/machines", "domain_machines", "get-domain-related-machines"),
    ("GET", "domains/{}/alerts", "domain_alerts", "get-domain-related-alerts"),
    ("GET", "users/{}/machines", "user_machines", "get-user-related-machines"),
    ("GET", "users/{}/alerts", "user_alerts", "get-user-related-alerts"),
)
# class -> [[calls, window seconds], ...], as each API's page on Microsoft Learn states them: STANDARD unless the
# page says otherwise, e.g. https://learn.microsoft.com/defender-endpoint/api/run-live-response (10 per minute),
# .../get-package-sas-uri (2 per minute, 120 per hour), .../batch-update-alerts (10 per minute, 500 per hour),
# .../run-advanced-query-api (45 per minute, 1500 per hour), .../initiate-autoir-investigation (50 per hour),
# .../import-ti-indicators (30 per minute) and .../batch-delete-ti-indicators (30 per minute, 1500 per hour).
# "default" is for a route this table does not know.
_OWN_LIMITS = {
    "runliveresponse": [[10, 60]],
    "getpackageuri": [[2, 60], [120, 3600]],
    "alertbatchupdate": [[10, 60], [500, 3600]],
    "advancedqueries": [[45, 60], [1500, 3600]],
    "startinvestigation": [[50, 3600]],
    "indicatorimport": [[30, 60]],
    "indicatorbatchdelete": [[30, 60], [1500, 3600]],
}
DEFAULT_LIMITS = dict([("default", STANDARD)] + [(route[2], _OWN_LIMITS.get(route[2], STANDARD)) for route in ROUTES])
# rate_pool "single": the pools of a tenant that counts every call of the standard windows together (what this
# collection did before it knew each API's limits): the classes with limits of their own keep them, the rest share
# "default", and a 429 pauses every call.
SINGLE_POOL_CLASSES = frozenset(["default"] + sorted(_OWN_LIMITS))
RATE_POOLS = ("per_api", "single")
# The pause key that holds every class (rate_pool single).
EVERY_CLASS = "*"


def _compile(route):
    pattern = re.escape(route).replace(re.escape("{}"), "[^/]+").replace(re.escape("(*)"), r"(\(.*\))?")
    return re.compile("^" + pattern + "$")


_MATCHERS = [(method, _compile(route), klass) for method, route, klass, dummy in ROUTES]
# A reserved call whose answer never came (the process died) stops counting as in flight after this long.
IN_FLIGHT_GRACE = 120
# The bound of a pause given without one (and of one an older release wrote): the default max_retry_wait.
LEGACY_PAUSE_BOUND = 3600


def learn_page(klass):
    """The Learn page that states a class's limits (None for "default")."""
    for dummy, dummy2, name, page in ROUTES:
        if name == klass:
            return _LEARN + page
    return None


def rate_class(path, method=None):
    """The rate class of an API call: its (method, route) in ROUTES, in any case; "default" for an unknown route.

    Without a method, the class of the first route that matches the path whatever its method (older callers)."""
    lowered = (path or "").split("?", 1)[0].rstrip("/").lower()
    at = lowered.find("/api/")
    route = lowered[at + len("/api/"):] if at >= 0 else lowered.lstrip("/")
    method = method.upper() if method else None
    for route_method, matcher, klass in _MATCHERS:
        if (method is None or method == route_method) and matcher.match(route):
            return klass
    return "default"


def pooled_class(klass, pool):
    """The class a call counts in under rate_pool `pool`."""
    if pool == "single" and klass not in SINGLE_POOL_CLASSES:
        return "default"
    return klass


class SinglePool:
    """rate_pool single over a budget that has no pools of its own (the shared coordination store): calls count in
    their pooled class, and a 429 pauses every pool, so every call waits."""

    def __init__(self, budget):
        self._budget = budget

    def reserve(self, klass, max_wait, timeout=60):
        return self._budget.reserve(pooled_class(klass, "single"), max_wait, timeout)

    def pause(self, klass, seconds, bound=None):
        for pooled in sorted(SINGLE_POOL_CLASSES):
            self._budget.pause(pooled, seconds, bound)
        self._budget.stats["rate_limited"] -= len(SINGLE_POOL_CLASSES) - 1  # one 429, however many pools it holds

    def __getattr__(self, name):  # done(), report(), stats...: the budget's own
        return getattr(self._budget, name)


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
    value = dict((str(k).lower(), v) for k, v in value.items())
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
    # A share of the tenant given as "default" (e.g. half of it) is a share of every API that has the standard
    # windows, unless the user named that API too: the meaning "default" had when it was the one pool.
    if "default" in value:
        for klass, windows in DEFAULT_LIMITS.items():
            if klass not in value and windows == STANDARD:
                limits[klass] = [list(w) for w in limits["default"]]
    return limits


def _tidy_log(log):
    """A class's log as this release keeps it; anything else (an older or damaged file) starts empty, never fails."""
    if not isinstance(log, dict):
        return {"done": [], "open": {}}
    done, opened = log.get("done"), log.get("open")
    try:
        done = sorted(float(t) for t in done) if isinstance(done, list) else []
        opened = dict((str(k), [float(v[0]), float(v[1])]) for k, v in opened.items()) \
            if isinstance(opened, dict) else {}
    except (TypeError, ValueError, IndexError):
        done, opened = [], {}
    return {"done": done, "open": opened}


def budget_key(tenant_id, client_id, api_url):
    raw = "\n".join([(tenant_id or "").lower(), (client_id or "").lower(), (api_url or "").lower().rstrip("/")])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class RateBudget:
    """Sliding-window pacing shared through a locked file. `reserve()` before a call, `done()` after it."""

    def __init__(self, directory, key, limits=None, clock=time.time, sleep=time.sleep, pool="per_api"):
        if pool not in RATE_POOLS:
            raise DefenderInputError("rate_pool must be one of %s, not %r." % (", ".join(RATE_POOLS), pool))
        self.pool = pool
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
                # A file another release wrote (or a hand edit) may lack either part, or hold something else there.
                for part in ("calls", "pause"):
                    if not isinstance(state.get(part), dict):
                        state[part] = {}
                yield state
                write_json(self.path, state, separators=(",", ":"))

    # --- the arithmetic -----------------------------------------------------------------------------
    def _windows(self, klass):
        return self.limits.get(klass) or self.limits["default"]

    def _log(self, state, klass, now):
        """The class's call log, tidied: {"done": [answer times, ascending], "open": {ticket: [sent, until]}}.

        A call still in flight counts as answered now; one whose answer never came (its process died) counts as
        answered at its `until`."""
        log = _tidy_log(state["calls"].get(klass))
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
        paused = max(self._pause_until(state, klass, now), self._pause_until(state, EVERY_CLASS, now))
        wait = max(0.0, paused - now)
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
        klass = pooled_class(klass, self.pool)
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
        caller's max_retry_wait), so that no answer can hold the controller for longer than a task would wait.
        With rate_pool single, a 429 holds every class: such a tenant counts them together."""
        klass = EVERY_CLASS if self.pool == "single" else klass
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
