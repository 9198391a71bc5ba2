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
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Machine.Isolate), and C(Machine.Read.All) to find devices and read their
    actions.
  - Full isolation runs on Windows 10 version 1703 or later, Windows 11 and Linux; selective isolation on Windows
    10 version 1709 or later and Windows 11. Other devices fail with the API's C(OsPlatformNotSupported) or
    C(ClientVersionNotSupported), and the message says where the action runs.
  - In check mode the module resolves the devices and reads their isolation state, and reports what it would
    submit without submitting it.
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
    - One row per device, in the order given (a device listed twice, by id and by name, is acted on once).
  returned: always
  type: list
  elements: dict
  contains:
    machine:
      description: The device as it was given (id or name).
      type: str
    machine_id:
      description: The device's machine id, when it could be resolved.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    action_id:
      description: The action submitted, or the one that already put the device in the state asked for;
        V(null) in check mode, or when a device to release never had an isolation.
      type: str
    status:
      description: The action's status when the module finished.
      type: str
    changed:
      description: Whether an action was (or in check mode would be) submitted for this device.
      type: bool
    failed:
      description: Whether this device failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    error:
      description: The API's error for a failed device (the same keys as RV(error)).
      type: dict
      returned: when this device failed
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
  description: The devices that failed, as given.
  returned: always
  type: list
  elements: str
  sample: [lt-sales-007.corp.example.com]
summary:
  description: How many devices got a new action, were already in the state asked for, would get one (check
    mode), or failed.
  returned: always
  type: dict
  sample: {devices: 3, submitted: 1, already_done: 1, would_submit: 0, failed: 1}
rate_budget:
  description:
    - What this task saw of the shared rate budget (shown at C(-v)).
    - C(calls) API calls made, C(paced_calls) of them had to wait for a slot, C(paced_seconds) in all, and
      C(rate_limited) 429 answers.
  returned: unless O(rate_budget=false)
  type: dict
  sample: {calls: 4, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
action_id:
  description: The id of the action that was submitted, or of the one that already put the device in the state
    asked for.
  returned: with O(machine_id) or O(machine_name)
  type: str
  sample: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
status:
  description: The action's status when the module finished (V(Pending), V(InProgress), V(Succeeded), V(Failed),
    V(TimeOut) or V(Cancelled)).
  returned: with O(machine_id) or O(machine_name)
  type: str
  sample: Succeeded
machine_action:
  description: The MachineAction entity as the API returned it, unmodified.
  returned: with O(machine_id) or O(machine_name), when there is one
  type: dict
  sample:
    id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
    type: Isolate
    scope: Full
    status: Succeeded
    machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    requestorComment: "INC-4711: contain"
machine_id:
  description: The id of the device.
  returned: with O(machine_id) or O(machine_name)
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: with O(machine_id) or O(machine_name)
  type: str
  sample: ws-fin-001.corp.example.com
error:
  description: What the API said when the task failed.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status.
      type: int
    code:
      description: The API's error code, for example V(OsPlatformNotSupported).
      type: str
    message:
      description: The API's error message.
      type: str
    correlation_id:
      description: The id Microsoft support asks for.
      type: str
    method:
      description: The HTTP method of the failed request.
      type: str
    path:
      description: The path of the failed request.
      type: str
"""

from ansible_collections.secops.defender.plugins.module_utils._containment import ISOLATION_TYPES, isolation
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
    return module.action_result(spec, options)


if __name__ == "__main__":
    main()
