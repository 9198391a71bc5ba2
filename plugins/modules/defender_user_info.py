#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_user_info
short_description: From users to their devices and alerts, or from devices to the users who logged on to them
version_added: 0.3.0
description:
  - With O(users), reads for each user the devices related to them (C(GET /api/users/{id}/machines)) and their
    alerts (C(GET /api/users/{id}/alerts)), each part selectable with O(include). The id is the account name alone,
    V(alice) for V(alice@contoso.com) (Learn, "Get user-related machines API"); a UPN or C(DOMAIN\\user) is refused
    before anything is sent, with what to give instead.
  - With O(machines), reads for each device the users who logged on to it (C(GET /api/machines/{id}/logonusers)),
    and returns their account names, each once, in RV(users), ready for O(users) in a next task. The way back from a
    device to its users sits here, beside the way from a user to its devices, so that one module answers "who and
    where" both ways and a play reads as the pivot it is (device, then its users, then their other devices).
  - Returns the de-duplicated RV(machine_ids), ready for the O(secops.defender.defender_isolation#module:machines) of
    any action module, with the users (or devices) that found each device (RV(machines[].found_by)), and
    RV(alert_ids).
  - A user the API does not know (no device, no alert) or a device it does not know (404) is a row with
    RV(results[].found=false), not a failure.
  - Every call is paced through the tenant's rate budget (O(rate_budget)); each route has its own limits of 100
    calls a minute and 1500 an hour.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  users:
    description:
      - The users, by account name (V(alice), not V(alice@contoso.com) or V(CORP\\alice)). A user given twice is read
        once.
      - Exactly one of O(users) and O(machines) is required.
    type: list
    elements: str
  machines:
    description:
      - Device ids (40 hexadecimal characters), for example the RV(machine_ids) of another pivot; for each, the users
        who logged on to it.
    type: list
    elements: str
  include:
    description:
      - With O(users), what to read of each user.
    type: list
    elements: str
    choices: [machines, alerts]
    default: [machines, alerts]
  concurrency:
    description:
      - How many users (or devices) are read at a time. All of them share the tenant's rate budget.
    type: int
    default: 4
  fail_on_entity_error:
    description:
      - Whether the task fails at the end when any user or device failed (a missing permission, a spent rate
        budget). The others are read either way, and every row is returned. One the API does not know is not a
        failure.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permissions C(Machine.ReadWrite.All) (a user's devices - since 2025 Learn's page for this
    route lists no read-only permission), C(Alert.Read.All) or C(Alert.ReadWrite.All) (alerts), and C(User.Read.All)
    (a device's logon users); a 403 names the one missing.
seealso:
  - module: secops.defender.defender_machine_info
  - module: secops.defender.defender_alert_info
  - name: Get user-related machines API
    description: Microsoft's documentation of a user's devices.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-user-related-machines
  - name: Get machine logon users API
    description: The users who logged on to a device.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-machine-log-on-users
"""

EXAMPLES = r"""
- name: Where else did the compromised accounts log on
  secops.defender.defender_user_info:
    users: [alice, bob]
  register: accounts

- name: Who logged on to the first infected device
  secops.defender.defender_user_info:
    machines: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
  register: logons

- name: And on which devices those users were seen
  secops.defender.defender_user_info:
    users: "{{ logons.users }}"
    include: [machines]
"""

RETURN = r"""
results:
  description: One row per user, in the order given; a user given twice makes one row.
  returned: always
  type: list
  elements: dict
  contains:
    entity:
      description: The user's account name, or the device id in lower case, as given.
      type: str
    type:
      description: V(user), or V(machine_id) with O(machines).
      type: str
    found:
      description: Whether the API knows the user (a device or an alert) or the device (not 404); V(null) for a
        failed row.
      type: bool
    alerts:
      description: The alerts related to the user, as the API gives them.
      returned: with O(users), when O(include) has V(alerts)
      type: list
      elements: dict
    logon_users:
      description: The users who logged on to the device, as the API gives them (C(id), C(accountName),
        C(accountDomain), C(firstSeen), C(lastSeen), C(logonTypes), C(isDomainAdmin), C(isOnlyNetworkUser)).
      returned: with O(machines)
      type: list
      elements: dict
    machines:
      description: The devices related to the user, each once, with C(machine_id), C(machine_name), C(os_platform),
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
      description: Whether this user failed.
      type: bool
    msg:
      description: What was found, for a failure what to do next.
      type: str
    error:
      description: Why this user failed, with the same keys as RV(error).
      returned: when this user failed
      type: dict
  sample:
    - entity: alice
      type: user
      found: true
      alerts: []
      machines:
        - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
           os_platform: Windows11, health_status: Active, last_seen: "2026-11-30T10:00:00Z", via: machines}
      machine_ids: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
      alert_ids: []
      notes: []
      changed: false
      failed: false
      msg: "alice: 1 device(s), 0 alert(s)."
machine_ids:
  description: The devices of every user, each once, in the order found; ready for the
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
       found_by: [alice]}
alert_ids:
  description: The alerts of every user, each once; ready for M(secops.defender.defender_alert) and
    M(secops.defender.defender_alert_info).
  returned: always
  type: list
  elements: str
  sample: [da637399794050273582_760707377]
users:
  description: With O(machines), the account names of the devices' logon users, each once; ready for O(users).
  returned: with O(machines)
  type: list
  elements: str
  sample: [alice, svc-backup]
failed_entities:
  description: The users (or devices) that failed, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many users were read, found, not found or failed, and how many devices and alerts they touch.
  returned: always
  type: dict
  contains:
    entities:
      description: How many rows RV(results) has.
      type: int
    found:
      description: The users the API knows.
      type: int
    not_found:
      description: The users it does not know.
      type: int
    failed:
      description: The users that failed.
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

from ansible_collections.secops.defender.plugins.module_utils._entities import (
    LOGON_USERS,
    USERS,
    logon_user_names,
    run_pivot,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule

ONE_OF = ("users", "machines")


def main():
    argument_spec = dict(
        users=dict(type="list", elements="str"),
        machines=dict(type="list", elements="str"),
        include=dict(type="list", elements="str", choices=list(USERS.parts), default=list(USERS.parts)),
        concurrency=dict(type="int", default=4),
        fail_on_entity_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, required_one_of=[ONE_OF],
                            mutually_exclusive=[ONE_OF])
    module.run(run)


def run(module):
    if module.params.get("users") is not None:
        return run_pivot(module, USERS, module.params["include"])
    return run_pivot(module, LOGON_USERS, extra=logon_user_names)


if __name__ == "__main__":
    main()
