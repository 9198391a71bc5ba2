# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback of tests/examples/run_examples.py (not shipped): before the first play of each example it
puts the emulator back to its seed (POST /_emulator/reset), empties the collection's local state (token cache,
rate budget, locks) and makes the example's declared setup calls; it records each host's failures and counts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: examples_outcome
type: aggregate
short_description: fresh emulator per example, and what each example did
description: Test-only; configured through EXAMPLES_RUN (a JSON file written by run_examples.py).
requirements: [enabled in callbacks_enabled]
"""

import json
import os
import shutil
import ssl
import time
import urllib.request

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "examples_outcome"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        with open(os.environ["EXAMPLES_RUN"]) as handle:
            self.run = json.load(handle)
        self.context = ssl.create_default_context(cafile=self.run["ca_path"])
        self.current = None
        self.outcome = {}

    def _control(self, method, path, body=None):
        request = urllib.request.Request(self.run["control_url"] + path, method=method,
                                         data=json.dumps(body or {}).encode(),
                                         headers={"X-Emulator-Key": self.run["control_key"],
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
            return json.load(answer)

    def _fresh(self, host):
        self._control("POST", "/reset")
        cache = self.run["cache_dir"]
        if os.path.isdir(cache):
            shutil.rmtree(cache)
        os.makedirs(cache, mode=0o700)
        for method, path, body in self.run["setup"].get(host, []):
            self._control(method, path, body)

    def v2_playbook_on_play_start(self, play):
        hosts = play.hosts if isinstance(play.hosts, list) else [play.hosts]
        host = hosts[0] if hosts else None
        if host != self.current:
            self.current = host
            row = self.outcome.setdefault(host, {"ok": 0, "failures": [], "plays": 0, "started": time.time()})
            try:
                self._fresh(host)
            except Exception as exc:  # noqa: B902  (the example is judged failed, the others still run)
                row["failures"].append({"task": "(reset and setup before the example)", "msg": repr(exc)})
        self.outcome[host]["plays"] += 1

    def _row(self, result):
        return self.outcome.setdefault(result._host.get_name(), {"ok": 0, "failures": [], "plays": 0})

    def v2_runner_on_ok(self, result):
        row = self._row(result)
        row["ok"] += 1
        row["last"] = time.time()

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            return
        answer = result._result
        self._row(result)["failures"].append({"task": result._task.get_name(),
                                              "msg": str(answer.get("msg") or answer.get("exception") or "")})

    def v2_runner_on_unreachable(self, result):
        self._row(result)["failures"].append({"task": result._task.get_name(), "msg": "unreachable"})

    def v2_playbook_on_stats(self, stats):
        for host, row in self.outcome.items():
            started = row.pop("started", None)
            row["seconds"] = round(row.pop("last", started or 0) - (started or 0), 1)
            summary = stats.summarize(host)
            row["failed"] = bool(summary.get("failures") or summary.get("unreachable") or row["failures"])
            row["rescued"] = summary.get("rescued", 0)
        with open(self.run["outcome"], "w") as handle:
            json.dump(self.outcome, handle, indent=1)
