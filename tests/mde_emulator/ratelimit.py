"""Sliding-window rate limits per app and endpoint class, on real time so Retry-After is honest."""

import math
import threading
import time
from collections import deque


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
