"""Injected faults: the next N matching requests answer an error, hang, drop the connection or return garbage.

Two forms:
- a rule: `{"kind": "status"|"hang"|"drop"|"drop_after"|"malformed"|"corrupt"|"rewrite", "path": regex, "count": N,
  ...}` hits the next N matching requests; a `status` fault may give the error's `code` and `message` (a refusal
  such as 400 ActiveRequestAlreadyExists for a device busy with an action that has ended since); `rewrite` (a
  hostile API) processes the request, then sets `field` of the JSON answer (of each item of a list's `value`) to
  `value`, e.g. an action id of "../../x"; with
  `"alias": true` the emulator then also answers requests for that value as for the real id (a consistent liar);
- `zeroed` (downloads): the stored bytes were damaged at rest, 64 bytes zeroed in the middle, and the storage's
  Content-MD5 and length are of the damaged bytes, so only a check of the content itself (a zip's CRCs) sees it;
- a mix: `{"kind": "mix", "rate": 0.2, "seed": 7, "faults": {"429": 3, "500": 2, "drop": 1, ...}, "count": N}`
  hits each matching request with probability `rate` (a seeded generator, so a soak is repeatable), choosing the
  fault by weight. Mix names: 429, 500, 502, 503, drop, drop_after, malformed, corrupt, slow. `count` bounds how
  many faults it injects in all; `injected` counts them by name.
"""

import random
import re
import threading

KINDS = ("status", "hang", "drop", "drop_after", "malformed", "corrupt", "zeroed", "rewrite", "mix")
MIX_NAMES = ("429", "500", "502", "503", "drop", "drop_after", "malformed", "corrupt", "slow", "hang")


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
            "count": int(spec.get("count", 1 if kind != "mix" else 10 ** 9)),
            "status": int(spec.get("status", 500)),
            "code": spec.get("code"),           # the error code a status fault answers (by default, by status)
            "message": spec.get("message"),
            "retry_after": spec.get("retry_after"),
            "delay": float(spec.get("delay", 0)),
            "field": spec.get("field", "id"),
            "value": spec.get("value"),
            "alias": bool(spec.get("alias")),
        }
        if kind == "mix":
            weights = spec.get("faults") or {"500": 1}
            unknown = [name for name in weights if name not in MIX_NAMES]
            if unknown:
                raise ValueError("unknown mix fault(s) %s; use %s" % (", ".join(unknown), ", ".join(MIX_NAMES)))
            rule.update(rate=float(spec.get("rate", 0.2)), random=random.Random(spec.get("seed", 0)),
                        names=sorted(weights), weights=[float(weights[n]) for n in sorted(weights)],
                        injected={}, seen=0, slow=float(spec.get("slow_seconds", 2.0)),
                        hang=float(spec.get("hang_seconds", 8.0)))
        with self._lock:
            self._rules.append(rule)
        return self._describe(rule)

    @staticmethod
    def _describe(rule):
        return {k: (v.pattern if hasattr(v, "pattern") else v) for k, v in rule.items() if k != "random"}

    def clear(self):
        with self._lock:
            self._rules.clear()

    def take(self, host, method, path):
        """The first rule that matches this request, with one use consumed, or None."""
        with self._lock:
            for rule in self._rules:
                if rule["count"] <= 0 or rule["host"] not in (host, "any"):
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if not rule["path"].search(path):
                    continue
                if rule["kind"] == "mix":
                    fault = self._draw(rule)
                    if fault is None:
                        continue
                    return fault
                rule["count"] -= 1
                return dict(rule)
        return None

    @staticmethod
    def _draw(rule):
        rule["seen"] += 1
        if rule["random"].random() >= rule["rate"]:
            return None
        name = rule["random"].choices(rule["names"], weights=rule["weights"])[0]
        rule["count"] -= 1
        rule["injected"][name] = rule["injected"].get(name, 0) + 1
        fault = {"kind": "status", "status": 500, "retry_after": None, "delay": 0.0, "name": name}
        if name.isdigit():
            fault.update(status=int(name), retry_after=1 if name == "429" else None)
        elif name == "slow":
            fault.update(kind="hang", delay=rule["slow"])
        elif name == "hang":  # longer than a client's timeout: the answer is lost, the request is still carried out
            fault.update(kind="hang", delay=rule["hang"])
        else:
            fault["kind"] = name
        return fault

    def pending(self):
        with self._lock:
            return [dict({"kind": r["kind"], "path": r["path"].pattern, "count": r["count"]},
                         **({"injected": dict(r["injected"]), "seen": r["seen"]} if r["kind"] == "mix" else {}))
                    for r in self._rules if r["count"] > 0]
