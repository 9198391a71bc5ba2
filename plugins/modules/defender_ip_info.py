#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_ip_info
short_description: From IP addresses to their statistics, alerts and the devices of those alerts
version_added: 0.3.0
description:
  - For each address of O(ips), reads its statistics in the organization (C(GET /api/ips/{ip}/stats) - how many
    devices talked to it, first and last seen) and its alerts (C(GET /api/ips/{ip}/alerts)), each part selectable
    with O(include).
  - Microsoft Learn documents no route from an IP address to the devices that talked to it. RV(results[].machines)
    are the devices of the address's alerts (C(via=alerts)); for every device that connected to it, ask advanced
    hunting with C(secops.defender.defender_advanced_hunting), for example
    C(DeviceNetworkEvents | where RemoteIP == "198.51.100.23" | distinct DeviceId).
  - Returns the de-duplicated RV(machine_ids), ready for the O(secops.defender.defender_isolation#module:machines) of
    any action module, with the addresses that found each device (RV(machines[].found_by)), and RV(alert_ids).
  - An address the API does not know (organizationPrevalence 0 and no alert) is a row with
    RV(results[].found=false), not a failure. An invalid address is refused before anything is sent.
  - Every call is paced through the tenant's rate budget (O(rate_budget)); each route has its own limits of 100
    calls a minute and 1500 an hour.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  ips:
    description:
      - The IP addresses (IPv4 or IPv6), one address each (no CIDR range). An address given twice is read once.
    type: list
    elements: str
    required: true
  include:
    description:
      - What to read of each address.
    type: list
    elements: str
    choices: [stats, alerts]
    default: [stats, alerts]
  lookback_hours:
    description:
      - How many hours back the statistics count (C(lookBackHours)), 1 to 720. The API's default is 30 days.
    type: int
  concurrency:
    description:
      - How many addresses are read at a time. All of them share the tenant's rate budget.
    type: int
    default: 4
  fail_on_entity_error:
    description:
      - Whether the task fails at the end when any address failed (a missing permission, a spent rate budget). The
        others are read either way, and every row is returned. An address the API does not know is not a failure.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permissions C(Ip.Read.All) (statistics) and C(Alert.Read.All) or C(Alert.ReadWrite.All)
    (alerts); a 403 names the one missing.
seealso:
  - module: secops.defender.defender_domain_info
  - module: secops.defender.defender_indicator
  - module: secops.defender.defender_machine_info
  - name: Get IP statistics API
    description: Microsoft's documentation of the IP statistics route.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-ip-statistics
  - name: Get IP related alerts API
    description: The alerts of an address.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-ip-related-alerts
"""

EXAMPLES = r"""
- name: What do we know of the C2 address
  secops.defender.defender_ip_info:
    ips: [198.51.100.23]
  register: c2_ip

- name: How many devices talked to it in the last day
  secops.defender.defender_ip_info:
    ips: [198.51.100.23]
    include: [stats]
    lookback_hours: 24
  register: c2_ip_today

- name: Show the count
  ansible.builtin.debug:
    msg: "{{ c2_ip_today.results[0].stats.organizationPrevalence }} device(s) in the last 24 hours"
"""

RETURN = r"""
results:
  description: One row per IP address, in the order given; an IP address given twice makes one row.
  returned: always
  type: list
  elements: dict
  contains:
    entity:
      description: The address as given, normalized (IPv6 compressed).
      type: str
    type:
      description: V(ip).
      type: str
    found:
      description: Whether the API knows the address (a prevalence above 0, or an alert); V(null) for a failed row.
      type: bool
    stats:
      description: The address's statistics (C(ipAddress), C(organizationPrevalence), C(orgFirstSeen),
        C(orgLastSeen)).
      returned: when O(include) has V(stats)
      type: dict
    alerts:
      description: The alerts related to the address, as the API gives them.
      returned: when O(include) has V(alerts)
      type: list
      elements: dict
    machines:
      description: The devices related to the IP address, each once, with C(machine_id), C(machine_name), C(os_platform),
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
      description: What the module did that a reader should know.
      type: list
      elements: str
    failed:
      description: Whether this IP address failed.
      type: bool
    msg:
      description: What was found, for a failure what to do next.
      type: str
    error:
      description: Why this IP address failed, with the same keys as RV(error).
      returned: when this IP address failed
      type: dict
  sample:
    - entity: 198.51.100.23
      type: ip
      found: true
      stats: {ipAddress: 198.51.100.23, organizationPrevalence: 3, orgFirstSeen: "2026-11-30T14:00:00Z"}
      alerts: []
      machines: []
      machine_ids: []
      alert_ids: []
      notes: []
      changed: false
      failed: false
      msg: "198.51.100.23: 0 device(s), 0 alert(s)."
machine_ids:
  description: The devices of every IP address, each once, in the order found; ready for the
    O(secops.defender.defender_isolation#module:machines) of an action module.
  returned: always
  type: list
  elements: str
  sample: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
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
       found_by: [198.51.100.23]}
alert_ids:
  description: The alerts of every IP address, each once; ready for M(secops.defender.defender_alert) and
    M(secops.defender.defender_alert_info).
  returned: always
  type: list
  elements: str
  sample: [da637399794050273582_760707377]
failed_entities:
  description: The IP addresses that failed, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many IP addresses were read, found, not found or failed, and how many devices and alerts they touch.
  returned: always
  type: dict
  contains:
    entities:
      description: How many rows RV(results) has.
      type: int
    found:
      description: The IP addresses the API knows.
      type: int
    not_found:
      description: The IP addresses it does not know.
      type: int
    failed:
      description: The IP addresses that failed.
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

from ansible_collections.secops.defender.plugins.module_utils._entities import IPS, run_pivot
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        ips=dict(type="list", elements="str", required=True),
        include=dict(type="list", elements="str", choices=list(IPS.parts), default=list(IPS.parts)),
        lookback_hours=dict(type="int"),
        concurrency=dict(type="int", default=4),
        fail_on_entity_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True)
    module.run(lambda m: run_pivot(m, IPS, m.params["include"], m.params["lookback_hours"]))


if __name__ == "__main__":
    main()
