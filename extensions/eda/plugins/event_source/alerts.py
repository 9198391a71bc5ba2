# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""secops.defender.alerts: an Event-Driven Ansible source of Microsoft Defender for Endpoint alerts.

It polls GET /api/alerts?$filter=lastUpdateTime ge <checkpoint>&$expand=evidence and puts every alert update on
the queue once: the checkpoint (the newest lastUpdateTime seen, and which alert updates carried it) is kept in a
file, so a restart neither repeats nor loses an update. The API does not guarantee any order, so the whole window
is read every time and deduplicated against the checkpoint.

Arguments (all optional; the connection ones also come from the modules' DEFENDER_* / AZURE_* variables):
  tenant_id, client_id, client_secret, certificate_path, api_url, authority_url, ca_path, ... as for the modules
  interval       seconds between polls (default 60)
  severities     only these severities, e.g. [High, Medium]
  statuses       only these statuses, e.g. [New, InProgress]
  categories     only these categories
  checkpoint     the checkpoint file (default <token_cache_dir>/alerts-checkpoint-<tenant>.json)
  lookback       how far back the first poll reads when there is no checkpoint: 30m, 24h, 7d (default 1h)
  once           poll once and return (for tests and cron-style runs)

Each event holds the fields a rule or a playbook may use, each checked by shape, and the alert itself only as text
that cannot be a template (the alert's title, description and evidence are written by whoever controls a device):
  alert_id           the alert's id (letters, digits, "_" and "-")
  machine_id         the device's id (40 hexadecimal characters), absent when the alert names none
  computer_dns_name  the device's name, only when it is a plain DNS name
  severity, status   one of the documented values, category a single word (absent otherwise)
  sha1s, sha256s     the evidence's file hashes, lower-case hexadecimal
  alert_json         the whole alert with its evidence, as JSON text with every brace inside a string written as
                     \\u007b or \\u007d: read it with `from_json`, as data, never inside a template string
An alert whose id or hashes do not have their shape is still delivered; what is malformed is left out and logged.

Example rulebook source:
  - secops.defender.alerts:
      interval: 60
      severities: [High]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import logging
import os
import sys
import time

# ansible-rulebook loads this file by path; make the collection's own module_utils importable from here.
_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 7)))
if os.path.isdir(os.path.join(_ROOT, "ansible_collections")) and _ROOT not in sys.path:
    sys.path.append(_ROOT)

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError  # noqa: E402
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of  # noqa: E402
from ansible_collections.secops.defender.plugins.module_utils._selection import seconds  # noqa: E402
from ansible_collections.secops.defender.plugins.module_utils._state_file import write_json  # noqa: E402
from ansible_collections.secops.defender.plugins.module_utils._times import instant  # noqa: E402
from ansible_collections.secops.defender.plugins.module_utils import _untrusted as shape  # noqa: E402

LOG = logging.getLogger("secops.defender.alerts")


def connection_params(args):
    """The modules' connection options: the rulebook's arguments first, then their environment variables, each read
    with the type and meaning a module gives it (one parser for every entry point)."""
    from ansible_collections.secops.defender.plugins.module_utils._connection import resolve_connection
    return resolve_connection(args)


class Checkpoint:
    """The newest lastUpdateTime delivered, and the alert updates delivered at exactly that time."""

    def __init__(self, path, lookback):
        self.path = path
        self.since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - lookback))
        self.seen = {}
        if path and os.path.exists(path):
            with open(path) as handle:
                data = json.load(handle)
            self.since, self.seen = data["since"], data.get("seen", {})

    def is_new(self, alert):
        seen = self.seen.get(alert["id"])
        return seen is None or instant(seen) != instant(alert.get("lastUpdateTime"))

    def record(self, alerts):
        if not alerts:
            return
        # Compared as instants: the API writes fractions of any length ("...01.12Z" is before "...01.123Z").
        newest = max((a["lastUpdateTime"] for a in alerts), key=instant)
        if instant(newest) > instant(self.since):
            self.since = newest
        # Keep only what sits at the boundary: the next query starts there (ge), everything older is behind it.
        self.seen.update((a["id"], a["lastUpdateTime"]) for a in alerts)
        boundary = instant(self.since)
        self.seen = dict((k, v) for k, v in self.seen.items() if instant(v) >= boundary)
        self._save()

    def _save(self):
        folder = os.path.dirname(self.path) or "."
        os.makedirs(folder, 0o700, exist_ok=True)
        write_json(self.path, {"since": self.since, "seen": self.seen})


def query(args, since):
    return all_of("lastUpdateTime ge %s" % since, any_of("severity", args.get("severities")),
                  any_of("status", args.get("statuses")), any_of("category", args.get("categories")))


def event(alert):
    """The event for one alert: shaped fields for rules and templates, the raw alert only as inert JSON text."""
    evidence = [e for e in alert.get("evidence") or [] if isinstance(e, dict)]
    fields = {
        "alert_id": shape.shaped(shape.ALERT_ID, alert.get("id"), lower=False),
        "machine_id": shape.shaped(shape.MACHINE_ID, alert.get("machineId")),
        "computer_dns_name": shape.shaped(shape.HOST_NAME, alert.get("computerDnsName"), lower=False),
        "severity": shape.one_of(shape.ALERT_SEVERITIES, alert.get("severity")),
        "status": shape.one_of(shape.ALERT_STATUSES, alert.get("status")),
        "category": shape.shaped(shape.WORD, alert.get("category"), lower=False),
    }
    out = dict((k, v) for k, v in fields.items() if v is not None)
    malformed = sorted(k for k, v in fields.items() if v is None and alert.get(_API_NAMES[k]) not in (None, ""))
    hashes = {}
    for key, pattern, field in (("sha1s", shape.SHA1, "sha1"), ("sha256s", shape.SHA256, "sha256")):
        given = [e[field] for e in evidence if e.get(field)]
        hashes[key] = sorted(set(h for h in (shape.shaped(pattern, g) for g in given) if h))
        if len(given) != len([g for g in given if shape.shaped(pattern, g)]):
            malformed.append(key)
    out.update(hashes)
    out["alert_json"] = shape.inert_json(alert)
    if malformed:
        LOG.warning("Alert %s: left out of the event because they do not have their documented shape: %s",
                    out.get("alert_id", "(no valid id)"), ", ".join(malformed))
    return out


# The API's name of each shaped field, to tell a missing value from a malformed one.
_API_NAMES = {"alert_id": "id", "machine_id": "machineId", "computer_dns_name": "computerDnsName",
              "severity": "severity", "status": "status", "category": "category"}


def poll(client, args, checkpoint):
    """One poll: the alert updates not delivered yet, oldest first (the caller records them once queued)."""
    found = client.paged("/api/alerts", {"$filter": query(args, checkpoint.since), "$expand": "evidence"})
    return sorted((a for a in found if checkpoint.is_new(a)), key=lambda a: instant(a.get("lastUpdateTime")))


async def main(queue, args):
    from ansible_collections.secops.defender.plugins.module_utils._connection import build_client, state_dir
    params = connection_params(args)
    client = build_client(params)
    path = args.get("checkpoint") or os.path.join(state_dir(params), "alerts-checkpoint-%s.json"
                                                  % (params.get("tenant_id") or "default"))
    checkpoint = Checkpoint(path, seconds(args.get("lookback", "1h")))
    interval = float(args.get("interval", 60))
    loop = asyncio.get_running_loop()
    while True:
        try:
            fresh = await loop.run_in_executor(None, poll, client, args, checkpoint)
            for alert in fresh:
                await queue.put(event(alert))
            # Recorded only once every event is on the queue: a crash in between repeats, never loses.
            checkpoint.record(fresh)
        except DefenderError as exc:  # the next poll tries again; rate limits were already waited out
            LOG.warning("Polling Defender alerts failed, will retry: %s", exc)
        if args.get("once"):
            return
        await asyncio.sleep(interval)


if __name__ == "__main__":
    class _Print:
        async def put(self, item):
            print(json.dumps(item))

    asyncio.run(main(_Print(), {"once": True}))
