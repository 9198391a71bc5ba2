#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_domain_info
short_description: From domains to the devices that talked to them, with their statistics and alerts
version_added: 0.3.0
description:
  - For each domain of O(domains), reads its statistics in the organization (C(GET /api/domains/{domain}/stats)),
    the devices that communicated with it (C(GET /api/domains/{domain}/machines)) and its alerts
    (C(GET /api/domains/{domain}/alerts)), each part selectable with O(include).
  - Returns per domain its facts and RV(results[].machines), and for the whole task the de-duplicated
    RV(machine_ids), ready for the O(secops.defender.defender_isolation#module:machines) of any action module, with
    the domains that found each device (RV(machines[].found_by)), and RV(alert_ids).
  - The API answers 500 devices at most for one domain (Learn, "Get domain-related machines API"); the row says so
    in RV(results[].notes) when it hits that bound. Advanced hunting (C(secops.defender.defender_advanced_hunting),
    C(DeviceNetworkEvents)) finds all.
  - A domain the API does not know (organizationPrevalence 0, no device, no alert) is a row with
    RV(results[].found=false), not a failure. A URL, a path or a port is refused before anything is sent.
  - Every call is paced through the tenant's rate budget (O(rate_budget)); each route has its own limits of 100
    calls a minute and 1500 an hour.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  domains:
    description:
      - The domain names, the host alone (V(c2.badcdn.example), not V(https://c2.badcdn.example/x)). A domain
        given twice is read once; case and a trailing dot do not matter.
    type: list
    elements: str
    required: true
  include:
    description:
      - What to read of each domain.
    type: list
    elements: str
    choices: [stats, machines, alerts]
    default: [stats, machines, alerts]
  lookback_hours:
    description:
      - How many hours back the statistics count (C(lookBackHours)), 1 to 720. The API's default is 30 days.
    type: int
  concurrency:
    description:
      - How many domains are read at a time. All of them share the tenant's rate budget.
    type: int
    default: 4
  fail_on_entity_error:
    description:
      - Whether the task fails at the end when any domain failed (a missing permission, a spent rate budget). The
        others are read either way, and every row is returned. A domain the API does not know is not a failure.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permissions C(URL.Read.All) (statistics), C(Machine.Read.All) or C(Machine.ReadWrite.All)
    (devices), and C(Alert.ReadWrite.All) (alerts - since 2025 Learn's page for this route lists no read-only
    permission); a 403 names the one missing.
seealso:
  - module: secops.defender.defender_ip_info
  - module: secops.defender.defender_isolation
  - module: secops.defender.defender_indicator
  - name: Get domain-related machines API
    description: Microsoft's documentation of the domain's devices route.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-domain-related-machines
  - name: Get domain statistics API
    description: The domain's statistics.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-domain-statistics
"""

EXAMPLES = r"""
- name: Which devices talked to the C2 domain
  secops.defender.defender_domain_info:
    domains: [c2.badcdn.example]
  register: c2_domain

- name: Isolate them, in one task
  secops.defender.defender_isolation:
    machines: "{{ c2_domain.machine_ids }}"
    comment: "INC-4711: talked to c2.badcdn.example"
  when: c2_domain.machine_ids | length > 0
"""

RETURN = r"""
results:
  description: One row per domain, in the order given; a domain given twice makes one row.
  returned: always
  type: list
  elements: dict
  contains:
    entity:
      description: The domain as given, in lower case, without a trailing dot.
      type: str
    type:
      description: V(domain).
      type: str
    found:
      description: Whether the API knows the domain (a prevalence above 0, a device or an alert); V(null) for a
        failed row.
      type: bool
    stats:
      description: The domain's statistics (C(host), C(organizationPrevalence), C(orgFirstSeen), C(orgLastSeen)).
      returned: when O(include) has V(stats)
      type: dict
    alerts:
      description: The alerts related to the domain, as the API gives them.
      returned: when O(include) has V(alerts)
      type: list
      elements: dict
    machines:
      description: The devices related to the domain, each once, with C(machine_id), C(machine_name), C(os_platform),
        C(health_status), C(last_seen) and C(via), the route that named it (V(machines), or V(alerts) for the
        device of one of its alerts).
      type: list
      elements: dict
    machine_ids:
      description: The ids of RV(results[].machines).
      type: list
      elements: str
    alert_ids:
      description: The ids of its alerts.
      type: list
      elements: str
    notes:
      description: What the module did that a reader should know, for example that the API's bound of 500 devices
        was reached.
      type: list
      elements: str
    failed:
      description: Whether this domain failed.
      type: bool
    msg:
      description: What was found, for a failure what to do next.
      type: str
    error:
      description: Why this domain failed, with the same keys as RV(error).
      returned: when this domain failed
      type: dict
  sample:
    - entity: c2.badcdn.example
      type: domain
      found: true
      stats: {host: c2.badcdn.example, organizationPrevalence: 2}
      alerts: []
      machines:
        - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
           os_platform: Windows11, health_status: Active, last_seen: "2026-11-30T10:00:00Z", via: machines}
      machine_ids: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
      alert_ids: []
      notes: []
      changed: false
      failed: false
      msg: "c2.badcdn.example: 1 device(s), 0 alert(s)."
machine_ids:
  description: The devices of every domain, each once, in the order found; ready for the
    O(secops.defender.defender_isolation#module:machines) of an action module.
  returned: always
  type: list
  elements: str
  sample: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07, 2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d]
machines:
  description: The same devices with C(machine_id), C(machine_name) and C(found_by), the entities that found each.
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
      description: The entities that found the device, in the order given.
      type: list
      elements: str
  sample:
    - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
       found_by: [c2.badcdn.example]}
alert_ids:
  description: The alerts of every domain, each once; ready for M(secops.defender.defender_alert) and
    M(secops.defender.defender_alert_info).
  returned: always
  type: list
  elements: str
  sample: [da637399794050273582_760707377]
failed_entities:
  description: The domains that failed, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many domains were read, found, not found or failed, and how many devices and alerts they touch.
  returned: always
  type: dict
  contains:
    entities:
      description: How many rows RV(results) has.
      type: int
    found:
      description: The domains the API knows.
      type: int
    not_found:
      description: The domains it does not know.
      type: int
    failed:
      description: The domains that failed.
      type: int
    machines:
      description: How many devices RV(machine_ids) has.
      type: int
    alerts:
      description: How many alerts RV(alert_ids) has.
      type: int
  sample: {entities: 1, found: 1, not_found: 0, failed: 0, machines: 2, alerts: 0}
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
  sample: {calls: 4, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
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

from ansible_collections.secops.defender.plugins.module_utils._entities import DOMAINS, run_pivot
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        domains=dict(type="list", elements="str", required=True),
        include=dict(type="list", elements="str", choices=list(DOMAINS.parts), default=list(DOMAINS.parts)),
        lookback_hours=dict(type="int"),
        concurrency=dict(type="int", default=4),
        fail_on_entity_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True)
    module.run(lambda m: run_pivot(m, DOMAINS, m.params["include"], m.params["lookback_hours"]))


if __name__ == "__main__":
    main()
