"""Sliding-window rate limits per app and endpoint class, on real time so Retry-After is honest."""

import math
import re
import threading
import time
from collections import deque


# (method, route under /api/, class): the APIs whose Learn page states limits "for this API" (the entity routes'
# classes are entities.py's). Most pages state 100 calls a minute and 1,500 an hour: those classes use the
# settings' `default` windows unless `rate_limits` names them.
ROUTES = (
    ("POST", "machines/{}/isolate", "isolate"), ("POST", "machines/{}/unisolate", "unisolate"),
    ("POST", "machines/{}/restrictcodeexecution", "restrictcodeexecution"),
    ("POST", "machines/{}/unrestrictcodeexecution", "unrestrictcodeexecution"),
    ("POST", "machines/{}/stopandquarantinefile", "stopandquarantinefile"),
    ("POST", "machines/{}/runantivirusscan", "runantivirusscan"),
    ("POST", "machines/{}/collectinvestigationpackage", "collectinvestigationpackage"),
    ("POST", "machines/{}/offboard", "offboard"), ("POST", "machines/{}/runliveresponse", "runliveresponse"),
    ("POST", "machines/{}/startinvestigation", "startinvestigation"), ("POST", "machines/{}/tags", "machinetags"),
    ("POST", "machines/addorremovetagformultiplemachines", "machinetagsbatch"),
    ("GET", "machines", "listmachines"), ("GET", "machines/findbytag", "findbytag"),
    ("GET", "machines/findbyip(*)", "findbyip"), ("GET", "machines/{}", "getmachine"),
    ("GET", "machineactions", "listmachineactions"), ("GET", "machineactions/{}/getpackageuri", "getpackageuri"),
    ("GET", "machineactions/{}/getliveresponseresultdownloadlink(*)", "liveresponseresult"),
    ("GET", "machineactions/{}", "getmachineaction"), ("POST", "machineactions/{}/cancel", "cancelmachineaction"),
    ("GET", "alerts", "listalerts"), ("POST", "alerts/batchupdate", "alertbatchupdate"),
    ("GET", "alerts/{}", "getalert"), ("PATCH", "alerts/{}", "alertupdate"),
    ("GET", "investigations", "listinvestigations"), ("GET", "investigations/{}", "getinvestigation"),
    ("GET", "indicators", "listindicators"), ("POST", "indicators", "submitindicator"),
    ("POST", "indicators/import", "indicatorimport"), ("POST", "indicators/batchdelete", "indicatorbatchdelete"),
    ("DELETE", "indicators/{}", "deleteindicator"),
    ("GET", "libraryfiles", "listlibrary"), ("POST", "libraryfiles", "uploadlibrary"),
    ("DELETE", "libraryfiles/{}", "deletelibrary"),
)
# rate_pool single: these keep their own pools (their limits are their own, or were before per-API classes);
# every other call counts in `default`.
SINGLE_POOL_CLASSES = ("default", "runliveresponse", "getpackageuri", "alertupdate", "alertbatchupdate",
                       "startinvestigation", "indicatorimport", "indicatorbatchdelete", "advancedqueries")


def _compile(route):
    pattern = re.escape(route).replace(re.escape("{}"), "[^/]+").replace(re.escape("(*)"), r"(\(.*\))?")
    return re.compile("^/api/" + pattern + "$")


_MATCHERS = [(method, _compile(route), klass) for method, route, klass in ROUTES]


def route_class(lowered_path, method):
    """The class of a (lower-cased) path and method (None: any) in ROUTES, or None."""
    for route_method, matcher, klass in _MATCHERS:
        if (method is None or route_method == method.upper()) and matcher.match(lowered_path):
            return klass
    return None


class RateLimiter:
    def __init__(self, limits):
        self._limits = limits
        self._calls = {}
        self._lock = threading.Lock()

    def configure(self, limits):
        with self._lock:
            self._limits = limits
            self._calls.clear()

    def check(self, app_id, klass):
        """Count one call. Returns 0 when allowed, else the whole seconds until a retry will be allowed."""
        return self.check_window(app_id, klass)[0]

    def check_window(self, app_id, klass):
        """As check, and which window refused: (wait, calls, window seconds), or (0, None, None)."""
        now = time.monotonic()
        windows = self._limits.get(klass) or self._limits.get("default", [])
        with self._lock:
            wait, refused = 0.0, (None, None)
            for calls, seconds in windows:
                log = self._calls.setdefault((app_id, klass, seconds), deque())
                while log and log[0] <= now - seconds:
                    log.popleft()
                if len(log) >= calls:
                    until = log[len(log) - calls] + seconds - now
                    if until > wait:
                        wait, refused = until, (calls, seconds)
            if wait > 0:
                # Rejected calls don't count, so retrying at Retry-After really succeeds.
                return (max(1, int(math.ceil(wait))),) + refused
            for calls, seconds in windows:
                self._calls[(app_id, klass, seconds)].append(now)
            return 0, None, None
