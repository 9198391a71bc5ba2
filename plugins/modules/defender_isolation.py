#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_isolation
short_description: Isolate devices from the network, or release them, on one device or a whole fleet
version_added: 0.2.0
description:
  - Isolates devices from the network with Microsoft Defender for Endpoint (the C(Isolate) machine action), or
    releases them (C(Unisolate)), on one device (O(machine_id) or O(machine_name)) or on many in one task
    (O(machines)).
  - The Machine entity does not show isolation, so the device's state is its newest C(Isolate) or C(Unisolate)
    action that is V(Pending), V(InProgress) or V(Succeeded), found for the whole list with one paged query. A
    device already in the state asked for is reported with C(changed=false). A device that never had either action
    is released.
  - An isolation of another O(isolation_type) is not the state asked for, so the device is isolated again with
    the type asked for.
  - While an isolation or release is still pending on a device, the API refuses another one with "Action is
    already in progress". O(on_active_action) decides whether that device fails, naming the pending action, or
    waits for it.
  - Every call is paced through the tenant's rate budget, shared by all tasks on the controller (O(rate_budget)).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  state:
    description:
      - V(isolated) isolates the devices; V(released) releases them from isolation.
    type: str
    choices: [isolated, released]
    default: isolated
  isolation_type:
    description:
      - With O(state=isolated), how far to isolate. V(Full) cuts every connection but Defender's own.
        V(Selective) keeps Outlook, Teams and Skype for Business working. V(UnManagedDevice) isolates an
        unmanaged device through the devices around it.
    type: str
    choices: [Full, Selective, UnManagedDevice]
    default: Full
  comment:
    description:
      - The comment recorded with the action, shown in the Defender portal's action center. Put the ticket in it.
    type: str
    default: Isolation changed by Ansible (secops.defender)
  force:
    description:
      - Submit the action even when the device already is in the state asked for.
    type: bool
    default: false
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.auth.MACHINE
  - secops.defender.auth.WAIT
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Machine.Isolate), and C(Machine.Read.All) to find devices and read their
    actions.
  - Full isolation runs on Windows 10 version 1703 or later, Windows 11 and Linux; selective isolation on Windows
    10 version 1709 or later and Windows 11. Other devices fail with the API's C(OsPlatformNotSupported) or
    C(ClientVersionNotSupported), and the message says where the action runs.
  - In check mode the module resolves the devices and reads their isolation state, and reports what it would
    submit without submitting it.
  - With C(--diff), the task shows each device's isolation before it (V(released), V(isolated (Full\)), with
    V(, pending) while its action runs) and the one asked for (check mode) or reached. The state comes from the same
    query as the idempotence check, so the diff costs no API call.
  - The C(secops.defender.contain_devices) role isolates (and optionally restricts app execution) on a fleet
    and releases it again.
seealso:
  - module: secops.defender.defender_app_restriction
  - module: secops.defender.defender_machine_action_info
  - name: Isolate machine API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/isolate-machine
"""

EXAMPLES = r"""
- name: Contain the affected devices, in one task
  secops.defender.defender_isolation:
    machines: "{{ affected_devices }}"    # ids and computer names, mixed
    comment: "INC-4711: contain"
  register: containment

- name: Selective isolation keeps Outlook and Teams working
  secops.defender.defender_isolation:
    machine_name: ws-fin-001.corp.example.com
    isolation_type: Selective
    comment: "INC-4711: contain, user keeps Teams"

- name: Release them when the incident is closed
  secops.defender.defender_isolation:
    machines: "{{ affected_devices }}"
    state: released
    comment: "INC-4711: released after reimage"
    on_active_action: wait                # a pending isolation ends first, then the release goes in
"""

RETURN = r"""
results:
  description:
    - One row per device, in the order given; the same id or name given twice makes one row. A device given both by id
      and by name is acted on once, and its second row fails and says so.
    - A failed row has its own C(error). The task's RV(error) is that one when one device was given, or when every
      failed device failed for the same coded reason (a spent rate budget, a missing permission); otherwise it carries
      only the task's message.
  returned: always
  type: list
  elements: dict
  contains:
    machine:
      description: The device as it was given, a name or an id (ids in lower case).
      type: str
    machine_id:
      description: The device's machine id, in lower case; V(null) when it is not known, for example for a name that
        matched no device, or several.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    action_id:
      description: The id of the action submitted for the device, or of the one found that made a new one unneeded
        (the module's description says which count). V(null) when there is neither, in check mode for a device that
        would get a new action, for a device that failed before its action was submitted, and for a device already in
        the state asked for without any action (for example a release of a device that was never isolated).
      type: str
    status:
      description: The action's status when the module finished, V(Pending), V(InProgress), V(Succeeded), V(Failed),
        V(TimeOut) or V(Cancelled); V(null) when there is no action.
      type: str
    changed:
      description: Whether an action was submitted for this device (in check mode, whether one would be).
      type: bool
    failed:
      description: Whether this device failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    error:
      description: Why this device failed, with the same keys as RV(error).
      returned: when this device failed
      type: dict
  sample:
    - machine: ws-fin-001.corp.example.com
      machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      action_id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
      status: Succeeded
      changed: true
      failed: false
      msg: ""
failed_machines:
  description: The devices that failed, as they were given, in the order given.
  returned: always
  type: list
  elements: str
  sample: [lt-sales-007.corp.example.com]
summary:
  description: How many devices got a new action, needed none, would get one (check mode) or failed. Each device
    counts once.
  returned: always
  type: dict
  contains:
    devices:
      description: How many rows RV(results) has.
      type: int
    submitted:
      description: The devices an action was submitted for.
      type: int
    already_done:
      description: The devices that needed no new action, because one was found (the module's description says which
        count) or the device already was in the state asked for.
      type: int
    would_submit:
      description: In check mode, the devices that would get a new action.
      type: int
    failed:
      description: The devices that failed, as in RV(failed_machines).
      type: int
  sample: {devices: 3, submitted: 1, already_done: 1, would_submit: 0, failed: 1}
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
action_id:
  description: The id of the action submitted for the device, or of the one found that made a new one unneeded (the
    module's description says which count). V(null) when there is neither, in check mode for a device that would get a
    new action, for a device that failed before its action was submitted, and for a device already in the state asked
    for without any action (for example a release of a device that was never isolated).
  returned: for one device (not with O(machines))
  type: str
  sample: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
status:
  description: The action's status when the module finished, V(Pending), V(InProgress), V(Succeeded), V(Failed),
    V(TimeOut) or V(Cancelled); V(null) when there is no action.
  returned: for one device (not with O(machines))
  type: str
  sample: Succeeded
machine_action:
  description: The MachineAction entity of RV(action_id) as the API returned it, unmodified; V(null) when there is
    none.
  returned: for one device (not with O(machines))
  type: dict
  sample:
    id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
    type: Isolate
    scope: Full
    status: Succeeded
    machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    requestorComment: "INC-4711: contain"
machine_id:
  description: The id of the device, in lower case.
  returned: for one device (not with O(machines))
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: for one device (not with O(machines))
  type: str
  sample: ws-fin-001.corp.example.com
diff:
  description:
    - In diff mode (C(--diff)), each device's isolation before the task and the one asked for (check mode) or reached,
      keyed by the device as given (as in RV(results[].machine)). Devices that failed before they had an
      action are left out (their rows say why).
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Per device, its isolation before the task.
      type: dict
    after:
      description: Per device, the isolation asked for (check mode) or reached; a device whose action failed stays as it
        was.
      type: dict
    before_header:
      description: The header Ansible shows above RV(diff.before).
      type: str
    after_header:
      description: The header Ansible shows above RV(diff.after).
      type: str
  sample:
    before: {ws-fin-001.corp.example.com: released, ws-fin-002.corp.example.com: isolated (Full)}
    after: {ws-fin-001.corp.example.com: isolated (Full), ws-fin-002.corp.example.com: isolated (Full)}
    before_header: isolation before
    after_header: isolation asked for (check mode)
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

from ansible_collections.secops.defender.plugins.module_utils._containment import (
    ISOLATION_TYPES,
    containment_result,
    isolation,
    isolation_state,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import (
    FLEET_ARGSPEC,
    TARGET_ARGSPEC,
    TARGET_KWARGS,
    WAIT_ARGSPEC,
)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["isolated", "released"], default="isolated"),
        isolation_type=dict(type="str", choices=list(ISOLATION_TYPES), default="Full"),
        comment=dict(type="str", default="Isolation changed by Ansible (secops.defender)"),
        force=dict(type="bool", default=False),
    )
    for shared in (TARGET_ARGSPEC, FLEET_ARGSPEC, WAIT_ARGSPEC):
        argument_spec.update(shared)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(run)


def run(module):
    params = module.params
    spec, options = isolation(params["state"], params["isolation_type"], params["comment"])
    wanted = "released" if params["state"] == "released" else "isolated (%s)" % params["isolation_type"]
    return containment_result(module, spec, options, isolation_state, wanted, "isolation")


if __name__ == "__main__":
    main()
