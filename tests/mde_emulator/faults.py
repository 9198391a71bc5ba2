"""Injected faults: the next N matching requests answer an error, hang, drop the connection or return garbage."""

import re
import threading

KINDS = ("status", "hang", "drop", "drop_after", "malformed")


class DropConnection(ConnectionError):
    """Raised inside the app; the request handler closes the socket without a response."""


class Faults:
    def __init__(self):
        self._rules = []
        self._lock = threading.Lock()

    def add(self, spec):
        kind = spec.get("kind", "status")
        if kind not in KINDS:
            raise ValueError("fault kind must be one of %s" % ", ".join(KINDS))
        rule = {
            "kind": kind,
            "method": (spec.get("method") or "").upper() or None,
            "path": re.compile(spec.get("path", ".*"), re.IGNORECASE),
            "host": spec.get("host", "api"),
            "count": int(spec.get("count", 1)),
            "status": int(spec.get("status", 500)),
            "retry_after": spec.get("retry_after"),
            "delay": float(spec.get("delay", 0)),
        }
        with self._lock:
            self._rules.append(rule)
        return {k: (v.pattern if hasattr(v, "pattern") else v) for k, v in rule.items()}

    def clear(self):
        with self._lock:
            self._rules.clear()

    def take(self, host, method, path):
        """The first rule that matches this request, with one use consumed, or None."""
        with self._lock:
            for rule in self._rules:
                if rule["count"] <= 0 or rule["host"] != host:
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if not rule["path"].search(path):
                    continue
                rule["count"] -= 1
                return dict(rule)
        return None

    def pending(self):
        with self._lock:
            return [{"kind": r["kind"], "path": r["path"].pattern, "count": r["count"]} for r in self._rules
                    if r["count"] > 0]
