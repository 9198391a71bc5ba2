#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_alert_info
short_description: List alerts, or read them by id, with their evidence and everything they touch
version_added: 0.3.0
description:
  - Lists Microsoft Defender for Endpoint alerts with the documented filters - O(status), O(severity), the time
    ranges O(created_after)/O(created_before) (C(alertCreationTime)) and O(updated_after)/O(updated_before)
    (C(lastUpdateTime)), and a raw O(filter) - or reads the alerts of O(alert_ids) (C(GET /api/alerts) with
    C($filter) on C(id), 20 ids a query), or the alerts of the devices of O(machines)
    (C(GET /api/machines/{id}/alerts)).
  - With O(evidence), each alert carries its evidence (C($expand=evidence)). With O(include), each alert also
    carries its related C(files), C(ips), C(domains), C(user) and C(machine) (C(GET /api/alerts/{id}/files) and the
    routes beside it), so a play goes from an alert id to everything it touches.
  - Returns RV(alert_ids) (ready for the O(secops.defender.defender_alert#module:alert_ids) of
    M(secops.defender.defender_alert), as is the C(alert_id) of each row of RV(results)), the de-duplicated
    RV(machine_ids) (ready for the O(secops.defender.defender_isolation#module:machines) of any action module) with
    the alerts that found each device, and what the alerts touch - RV(sha1s), RV(ips), RV(domains), RV(users) - ready
    for M(secops.defender.defender_file_info), M(secops.defender.defender_ip_info),
    M(secops.defender.defender_domain_info) and M(secops.defender.defender_user_info).
  - The API's order is not guaranteed; the rows come newest update first (times compared as instants).
  - An id the API does not know is a row with RV(results[].found=false), not a failure.
  - Every call is paced through the tenant's rate budget (O(rate_budget)); each route has its own limits of 100
    calls a minute and 1500 an hour.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  alert_ids:
    description:
      - Read these alerts (for example V(da637399794050273582_760707377)). The other filters, when given, narrow
        them.
    type: list
    elements: str
  machines:
    description:
      - Device ids (40 hexadecimal characters), for example the RV(machine_ids) of a pivot; their alerts, read from
        each device's own route, which takes no C($filter), so O(status), O(severity) and the times are applied to
        them here and O(filter) cannot be used with it.
    type: list
    elements: str
  status:
    description:
      - Only alerts in one of these statuses.
    type: list
    elements: str
    choices: [Unknown, New, InProgress, Resolved]
  severity:
    description:
      - Only alerts of one of these severities.
    type: list
    elements: str
    choices: [UnSpecified, Informational, Low, Medium, High]
  created_after:
    description:
      - Only alerts created at or after this UTC time, like V(2026-11-22T00:00:00Z).
    type: str
  created_before:
    description:
      - Only alerts created before this UTC time.
    type: str
  updated_after:
    description:
      - Only alerts last updated at or after this UTC time; keep it as a checkpoint to read what changed since.
    type: str
  updated_before:
    description:
      - Only alerts last updated before this UTC time.
    type: str
  filter:
    description:
      - A raw OData C($filter), joined to the others with C(and), for example V(category eq 'Malware').
      - The API filters alerts only on the properties that the
        L(List alerts API,https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts) page lists -
        alertCreationTime, lastUpdateTime, incidentId, InvestigationId, id, assignedTo, detectionSource,
        lastEventTime, status, severity and category. A filter that names another property (C(machineId) included -
        use O(machines)) is refused before anything is sent.
    type: str
  evidence:
    description:
      - Whether each alert carries its C(evidence) (C($expand=evidence)).
    type: bool
    default: false
  include:
    description:
      - What else to read of each alert, one call each per alert.
    type: list
    elements: str
    choices: [files, ips, domains, user, machine]
    default: []
  limit:
    description:
      - The most alerts to return when listing (without O(alert_ids)).
    type: int
  concurrency:
    description:
      - How many alerts' related entities are read at a time. All of them share the tenant's rate budget.
    type: int
    default: 4
  fail_on_alert_error:
    description:
      - Whether the task fails at the end when any alert failed (reading its related entities - a missing permission,
        a spent rate budget). Every row is returned either way. An id the API does not know is not a failure.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Alert.Read.All) or C(Alert.ReadWrite.All); with O(include), also
    C(File.Read.All) (files), C(Ip.Read.All) (ips), C(URL.Read.All) (domains), C(User.Read.All) (user) and
    C(Machine.Read.All) or C(Machine.ReadWrite.All) (machine). A 403 names the one missing.
  - Alert titles, descriptions, comments and evidence are set by whoever controls a device or writes an alert; they
    come back as data, never as templates.
seealso:
  - module: secops.defender.defender_alert
  - module: secops.defender.defender_file_info
  - name: List alerts API
    description: Microsoft's documentation of the alert list and its filters.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts
  - name: Get alert related files information API
    description: One of the related-entity routes (files, ips, domains, user, machine).
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-alert-related-files-info
"""

EXAMPLES = r"""
- name: The new high-severity alerts of the last day
  secops.defender.defender_alert_info:
    status: [New]
    severity: [High]
    created_after: "{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(now(utc=true).timestamp() - 86400, utc=true) }}"
  register: fresh

- name: Start working on them
  secops.defender.defender_alert:
    alert_ids: "{{ fresh.alert_ids }}"
    status: InProgress
  when: fresh.alert_ids | length > 0

- name: From the alerts of two devices to everything they touch
  secops.defender.defender_alert_info:
    machines: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07, 2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d]
    evidence: true
    include: [files, ips, domains, user, machine]
  register: touched

- name: Every device that holds one of their files
  secops.defender.defender_file_info:
    files: "{{ touched.sha1s }}"
    include: [machines]
  when: touched.sha1s | length > 0
"""

RETURN = r"""
results:
  description: One row per alert - for O(alert_ids) in the order given (an id given twice is one row), else newest
    update first.
  returned: always
  type: list
  elements: dict
  contains:
    alert_id:
      description: The alert's id.
      type: str
    found:
      description: Whether the API knows the alert (V(false) for an id it does not return); V(null) for a failed
        row.
      type: bool
    alert:
      description: The Alert entity as the API gives it (with C(evidence) when O(evidence)); V(null) when not found.
      type: dict
    machine_id:
      description: The alert's device id (C(machineId)).
      type: str
    machine_name:
      description: The alert's device name (C(computerDnsName)).
      type: str
    files:
      description: The alert's related File entities.
      returned: when O(include) has V(files)
      type: list
      elements: dict
    ips:
      description: The alert's related IP addresses.
      returned: when O(include) has V(ips)
      type: list
      elements: str
    domains:
      description: The alert's related domains (hosts).
      returned: when O(include) has V(domains)
      type: list
      elements: str
    user:
      description: The alert's related User entity; V(null) when it has none.
      returned: when O(include) has V(user)
      type: dict
    machine:
      description: The alert's related Machine entity; V(null) when it has none.
      returned: when O(include) has V(machine)
      type: dict
    machines:
      description: The alert's devices (its C(machineId), and its related machine), each with C(machine_id) and
        C(machine_name).
      type: list
      elements: dict
    failed:
      description: Whether this alert failed.
      type: bool
    msg:
      description: What was found, for a failure what to do next.
      type: str
    error:
      description: Why this alert failed, with the same keys as RV(error).
      returned: when this alert failed
      type: dict
  sample:
    - alert_id: da637399794050273582_760707377
      found: true
      alert: {id: da637399794050273582_760707377, status: New, severity: High, title: Dropper}
      machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      ips: [198.51.100.23]
      machines: [{machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com}]
      changed: false
      failed: false
      msg: "da637399794050273582_760707377: New"
alert_ids:
  description: The ids of the alerts found, in the order of RV(results); ready for the O(alert_ids) of
    M(secops.defender.defender_alert).
  returned: always
  type: list
  elements: str
  sample: [da637399794050273582_760707377]
machine_ids:
  description: The alerts' devices, each once, in order; ready for the
    O(secops.defender.defender_isolation#module:machines) of an action module.
  returned: always
  type: list
  elements: str
  sample: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
machines:
  description: The same devices with C(machine_id), C(machine_name) and C(found_by), the alerts that found each.
  returned: always
  type: list
  elements: dict
  contains:
    machine_id:
      description: The device's id, in lower case.
      type: str
    machine_name:
      description: The device's computer DNS name, as the API gave it.
      type: str
    found_by:
      description: The alerts that found the device, in the order given.
      type: list
      elements: str
  sample:
    - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
       found_by: [da637399794050273582_760707377]}
sha1s:
  description: The SHA-1 of every file the alerts touch (related files and evidence), each once; ready for the
    O(secops.defender.defender_file_info#module:files) of M(secops.defender.defender_file_info).
  returned: always
  type: list
  elements: str
  sample: [8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f]
ips:
  description: The IP addresses the alerts touch (related IPs and evidence), each once.
  returned: always
  type: list
  elements: str
  sample: [198.51.100.23]
domains:
  description: The domains the alerts touch (related domains), each once.
  returned: always
  type: list
  elements: str
  sample: [c2.badcdn.example]
users:
  description: The account names the alerts touch (related user and evidence), each once.
  returned: always
  type: list
  elements: str
  sample: [alice]
failed_alerts:
  description: The alerts that failed, in the order of RV(results).
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many alerts were found, not found or failed, and how many devices they touch.
  returned: always
  type: dict
  contains:
    alerts:
      description: How many rows RV(results) has.
      type: int
    found:
      description: The alerts found.
      type: int
    not_found:
      description: The ids the API does not know.
      type: int
    failed:
      description: The alerts that failed.
      type: int
    machines:
      description: How many devices RV(machine_ids) has.
      type: int
  sample: {alerts: 1, found: 1, not_found: 0, failed: 0, machines: 1}
rate_budget:
  description: What this task saw of the tenant's rate budget, shared by every task on the controller (see
    O(rate_budget)). Shown at C(-v).
  returned: unless O(rate_budget=false)
  type: dict
  contains:
    calls:
      description: The API calls this task made.
      type: int
    paced_calls:
      description: How many of them waited for a free slot before they were sent.
      type: int
    paced_seconds:
      description: How many seconds they waited in all.
      type: float
    rate_limited:
      description: How many times the API answered 429 (too many requests).
      type: int
  sample: {calls: 2, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
error:
  description: Why the task failed. For an error the API answered, what it said; for any other failure (bad input, no
    connection, a check that did not pass) the module's own reason, with V(null) for what does not apply.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request; V(null) when no HTTP answer is behind the failure.
      type: int
    code:
      description: The API's error code, for example V(ResourceNotFound) or V(OsPlatformNotSupported) (see L(the API's
        error codes,https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors)), or the module's own, for
        example V(ConnectTimeout), V(RateBudgetSpent) or V(UnexpectedResponse); V(null) when there is none.
      type: str
    message:
      description: The API's error message, or the module's own when the API gave none.
      type: str
    correlation_id:
      description: The id Microsoft support asks for, the C(target) of the API's error (or the answer's request id
        header when the error has none); V(null) when the answer had neither.
      type: str
    method:
      description: The HTTP method of the failed request; V(null) when no request failed.
      type: str
    path:
      description: The path of the failed request (for a download, without its query, which is a credential); V(null)
        when no request failed.
      type: str
"""

from ansible_collections.secops.defender.plugins.module_utils._entities import ALERT_RELATED, alert_info
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._untrusted import ALERT_SEVERITIES, ALERT_STATUSES


def main():
    argument_spec = dict(
        alert_ids=dict(type="list", elements="str"),
        machines=dict(type="list", elements="str"),
        status=dict(type="list", elements="str", choices=list(ALERT_STATUSES)),
        severity=dict(type="list", elements="str", choices=list(ALERT_SEVERITIES)),
        created_after=dict(type="str"),
        created_before=dict(type="str"),
        updated_after=dict(type="str"),
        updated_before=dict(type="str"),
        filter=dict(type="str"),
        evidence=dict(type="bool", default=False),
        include=dict(type="list", elements="str", choices=list(ALERT_RELATED), default=[]),
        limit=dict(type="int"),
        concurrency=dict(type="int", default=4),
        fail_on_alert_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True)
    module.run(lambda m: alert_info(m.client, m.params, m.params["concurrency"]))


if __name__ == "__main__":
    main()
