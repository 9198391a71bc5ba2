# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""secops.defender.alerts: an Event-Driven Ansible source of Microsoft Defender for Endpoint alerts.

It polls GET /api/alerts?$filter=lastUpdateTime ge <checkpoint>&$expand=evidence and puts every alert update on
the queue once: the checkpoint (the newest lastUpdateTime seen, and which alert updates carried it) is kept in a
file, so a restart neither repeats nor loses an update. The API does not guarantee any order, so the whole window
is read every time and deduplicated against the checkpoint.

Its options, each with its environment variables and default, are in DOCUMENTATION below; EXAMPLES has rulebooks.

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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: alerts
short_description: Microsoft Defender for Endpoint alerts as Event-Driven Ansible events, each update once
version_added: 0.2.0
description:
  - An ansible-rulebook event source that polls the Defender for Endpoint alerts API
    (C(GET /api/alerts?$filter=lastUpdateTime ge <checkpoint>&$expand=evidence)) every O(interval) seconds and puts
    every alert update on the queue once.
  - The checkpoint (the newest C(lastUpdateTime) delivered, and which alert updates carried it) is kept in a file,
    O(checkpoint), so a restart neither repeats nor loses an update. The API guarantees no order, so each poll reads
    the whole window and leaves out what the checkpoint already holds.
  - The connection options are the modules' own, read the same way. The rulebook's arguments come first, then each
    option's environment variables in the order listed, then the default. Give secrets (O(client_secret),
    O(certificate_password), O(access_token)) through the environment, as an EDA credential injects them.
  - One sign-in, through the same token cache and rate budget as the modules. A poll that fails is logged and
    tried again at the next interval.
  - 'Each event holds the fields a rule may test, each checked by shape: C(alert_id) (letters, digits, C(_) and
    C(-)); C(machine_id) (40 hexadecimal characters, absent when the alert names no device); C(computer_dns_name)
    (only a plain DNS name); C(severity) and C(status) (one of the documented values); C(category) (a single word);
    C(sha1s) and C(sha256s) (the evidence''s file hashes, lower-case hexadecimal). A value without its shape is
    left out of the event and logged; the alert is still delivered.'
  - The whole alert with its evidence is in C(alert_json), as JSON text in which every brace inside a string is
    written as C(\u007b) or C(\u007d), so it can never be a template. The alert's title, description and evidence
    are written by whoever controls a device. Read it as data with the C(secops.defender.from_untrusted_json)
    filter, never inside a template string.
author:
  - Secops Defender Contributors (@secops-collections)
requirements:
  - ansible-rulebook
  - requests 2.30.0 or newer, urllib3 2.2.0 or newer
  - msal 1.35.0 or newer (not needed with O(access_token))
options:
  interval:
    description:
      - Seconds between two polls.
    type: float
    default: 60
  severities:
    description:
      - Only alerts of these severities, for example V(High) and V(Medium).
    type: list
    elements: str
  statuses:
    description:
      - Only alerts in these statuses, for example V(New) and V(InProgress).
    type: list
    elements: str
  categories:
    description:
      - Only alerts of these categories.
    type: list
    elements: str
  checkpoint:
    description:
      - The checkpoint file. It is written atomically after every poll whose events are all on the queue, so a
        crash in between delivers those events again rather than losing them.
      - The default is C(alerts-checkpoint-<tenant_id>.json) in O(token_cache_dir) (C(alerts-checkpoint-default.json)
        when O(tenant_id) is not set).
    type: path
  lookback:
    description:
      - How far back the first poll reads when there is no checkpoint yet, as V(30m), V(24h) or V(7d) (a plain
        number is days).
    type: str
    default: 1h
  once:
    description:
      - Poll once and return, for tests and cron-style runs.
      - "When its sources end, ansible-rulebook shuts down: it waits C(--shutdown-delay) seconds (env
        E(EDA_SHUTDOWN_DELAY), 60 by default) for the actions already started or waiting, then cancels them
        (U(https://github.com/ansible/ansible-rulebook/issues/633)), while the checkpoint already counts every event
        of the poll as delivered. So with O(once), give C(--shutdown-delay) more than the rule's actions for one
        poll's alerts take together (run one after another, for the sequential execution strategy), or an alert's
        playbook may never run. Run without O(once) where that cannot be bounded."
    type: bool
    default: false
  tenant_id:
    description:
      - The Microsoft Entra ID (Azure AD) tenant that holds the app registration.
    type: str
    env: [{name: DEFENDER_TENANT_ID}, {name: AZURE_TENANT_ID}, {name: AZURE_TENANT}]
  client_id:
    description:
      - The application (client) id of the app registration.
    type: str
    env: [{name: DEFENDER_CLIENT_ID}, {name: AZURE_CLIENT_ID}]
  client_secret:
    description:
      - A client secret of the app registration. Give it through the environment.
    type: str
    env: [{name: DEFENDER_CLIENT_SECRET}, {name: AZURE_CLIENT_SECRET}, {name: AZURE_SECRET}]
  certificate_path:
    description:
      - A PEM file that holds both the private key and the certificate registered on the app.
    type: path
    env: [{name: DEFENDER_CLIENT_CERTIFICATE_PATH}, {name: AZURE_CLIENT_CERTIFICATE_PATH}]
  certificate_password:
    description:
      - The password of the private key in O(certificate_path), if it is encrypted. Give it through the environment.
    type: str
    env: [{name: DEFENDER_CLIENT_CERTIFICATE_PASSWORD}, {name: AZURE_CLIENT_CERTIFICATE_PASSWORD}]
  access_token:
    description:
      - A bearer token acquired elsewhere, for the Defender API audience. It cannot be refreshed, so polls fail once
        it expires. Give it through the environment.
    type: str
    env: [{name: DEFENDER_ACCESS_TOKEN}]
  auth_method:
    description:
      - How to sign in. V(auto) uses O(access_token) if given, else O(certificate_path), else O(client_secret).
      - V(managed_identity) uses the managed identity of the host the rulebook runs on.
    type: str
    choices: [auto, client_secret, certificate, access_token, managed_identity]
    default: auto
    env: [{name: DEFENDER_AUTH_METHOD}]
  managed_identity_client_id:
    description:
      - The client id of a user-assigned managed identity. Leave unset for the system-assigned identity.
    type: str
    env: [{name: DEFENDER_MANAGED_IDENTITY_CLIENT_ID}]
  cloud:
    description:
      - Which Microsoft cloud the tenant lives in. It picks the API host, the sign-in host and the token scope.
      - After E(DEFENDER_CLOUD), E(AZURE_CLOUD_ENVIRONMENT) is read as the Azure Resource Manager credential of AWX
        and AAP injects it (V(AzureCloud) is V(commercial), V(AzureUSGovernment) is V(gcc_high)).
    type: str
    choices: [commercial, dod, gcc, gcc_high]
    default: commercial
    env: [{name: DEFENDER_CLOUD}, {name: AZURE_CLOUD_ENVIRONMENT}]
  api_url:
    description:
      - Overrides the API base of O(cloud), for a regional host such as U(https://eu.api.security.microsoft.com) or
        an emulator.
    type: str
    env: [{name: DEFENDER_API_URL}]
  authority_url:
    description:
      - Overrides the sign-in host of O(cloud). The tenant id is appended to it.
    type: str
    env: [{name: DEFENDER_AUTHORITY_URL}]
  scope:
    description:
      - Overrides the token scope of O(cloud).
    type: str
    env: [{name: DEFENDER_SCOPE}]
  allow_insecure_http:
    description:
      - Allow O(api_url) and O(authority_url) to be plain C(http://) URLs, for a lab only.
    type: bool
    default: false
    env: [{name: DEFENDER_ALLOW_INSECURE_HTTP}]
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only turn this off against a test system.
    type: bool
    default: true
    env: [{name: DEFENDER_VALIDATE_CERTS}]
  ca_path:
    description:
      - A CA bundle to verify the API and sign-in hosts with, instead of the system's. It is applied to every
        request, so E(REQUESTS_CA_BUNDLE) cannot override it.
    type: path
    env: [{name: DEFENDER_CA_PATH}]
  timeout:
    description:
      - Seconds one HTTP request may take in all, from connecting to the last byte of the answer.
    type: int
    default: 30
    env: [{name: DEFENDER_TIMEOUT}]
  max_response_mb:
    description:
      - The largest answer read, in MiB. A larger one fails the poll with C(ResponseTooLarge).
    type: int
    default: 64
    env: [{name: DEFENDER_MAX_RESPONSE_MB}]
  coordination_url:
    description:
      - A Redis (V(redis://) or V(rediss://)) shared by every controller, holding the rate budget and the submit
        locks, so the source's polls and the jobs it starts count against one budget. A store that cannot be
        reached fails the poll with C(CoordinationStore).
    type: str
    env: [{name: DEFENDER_COORDINATION_URL}]
  coordination_ca_path:
    description:
      - A PEM bundle of CA certificates for a V(rediss://) O(coordination_url).
    type: path
    env: [{name: DEFENDER_COORDINATION_CA_PATH}]
  download_hosts:
    description:
      - The hosts result links may point to, host names or V(*.suffix); in the environment, separated by commas.
        The event source follows no result link; the option is read like every connection option.
      - The default is the storage of O(cloud).
    type: list
    elements: str
    env: [{name: DEFENDER_DOWNLOAD_HOSTS}]
  max_retry_wait:
    description:
      - The most seconds one API call may wait for the rate budget, for HTTP 429 and for retries before the poll
        fails.
    type: int
    default: 3600
    env: [{name: DEFENDER_MAX_RETRY_WAIT}]
  rate_budget:
    description:
      - Whether to pace every API call through the tenant's rate budget, shared with the modules and plugins on
        this host that use the same tenant, app and API host.
    type: bool
    default: true
    env: [{name: DEFENDER_RATE_BUDGET}]
  rate_limits:
    description:
      - Overrides of the documented limits the rate budget paces to, a dict of endpoint class to a list of
        C([calls, seconds]) windows (in the environment, as JSON).
      - The default is the documented limits.
    type: dict
    env: [{name: DEFENDER_RATE_LIMITS}]
  rate_pool:
    description:
      - How the rate budget counts calls, V(per_api) (each API in its own class, as its Learn page states) or
        V(single) (one pool, for a tenant that needs it), as for the modules.
    type: str
    choices: [per_api, single]
    default: per_api
    env: [{name: DEFENDER_RATE_POOL}]
  token_cache:
    description:
      - Whether to share access tokens with the modules through the per-user cache file C(tokens.json) in
        O(token_cache_dir).
    type: bool
    default: true
    env: [{name: DEFENDER_TOKEN_CACHE}]
  token_cache_dir:
    description:
      - The folder of the token cache, the rate budget and, by default, the O(checkpoint).
      - The default is C($XDG_CACHE_HOME/secops.defender), or C(~/.cache/secops.defender).
    type: path
    env: [{name: DEFENDER_TOKEN_CACHE_DIR}]
seealso:
  - module: secops.defender.defender_quarantine_file
  - module: secops.defender.defender_isolation
  - ref: ansible_collections.secops.defender.docsite.guide_awx
    description: Event-Driven Ansible with AWX or AAP, and reading C(alert_json) safely.
"""

EXAMPLES = r"""
# In a rulebook: every new high-severity alert that names a device, once, across restarts. New only: the
# playbook sets the alert InProgress and then Resolved, and those updates must not come back as events.
# The connection comes from DEFENDER_* (or AZURE_*) environment variables.
- name: Remediate high-severity Defender alerts
  hosts: all
  sources:
    - secops.defender.alerts:
        interval: 60
        severities: [High]
        statuses: [New]
  rules:
    - name: Quarantine the alert's files and isolate its device
      condition: event.machine_id is defined and event.severity == "High"
      action:
        run_playbook:
          name: secops.defender.remediate_alert

# A regional API host, a first poll that reads the last day, and the checkpoint in a folder of its own.
- name: Watch EU alerts
  hosts: all
  sources:
    - secops.defender.alerts:
        api_url: https://eu.api.security.microsoft.com
        lookback: 24h
        checkpoint: /var/lib/eda/defender-alerts.json
  rules:
    - name: Say what came in
      condition: event.alert_id is defined
      action:
        debug:
          msg: "Alert {{ event.alert_id }} ({{ event.severity | default('unknown') }})"
"""

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
