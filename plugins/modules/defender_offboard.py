#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_offboard
short_description: Offboard devices from Microsoft Defender for Endpoint, on one device or a whole fleet
version_added: 0.2.0
description:
  - Offboards devices (the C(Offboard) machine action), on one device (O(machine_id) or O(machine_name)) or on
    many in one task (O(machines)). The sensor stops reporting; only onboarding the device again brings it
    back. Use it for decommissioned or reimaged devices, or to stop a compromised sensor from reporting.
  - Refuses to do anything, check mode included, unless O(confirm=true).
  - A device with an offboarding that is V(Pending), V(InProgress) or V(Succeeded), however old, is reported with
    C(changed=false); they are found for the whole list with one paged query.
  - Every call is paced through the tenant's rate budget, shared by all tasks on the controller (O(rate_budget)).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  confirm:
    description:
      - Must be V(true). Offboarding cannot be undone from the API.
    type: bool
    default: false
  comment:
    description:
      - The comment recorded with the action, shown in the Defender portal's action center. Required by the API;
        put the change or ticket in it.
    type: str
    default: Offboarded by Ansible (secops.defender)
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.auth.MACHINE
  - secops.defender.auth.WAIT
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Machine.Offboard), and C(Machine.Read.All) to find devices and read their
    actions.
  - Windows only. macOS and Linux devices fail with the API's C(OsPlatformNotSupported); offboard them with their
    offboarding script.
  - The API answers C(200) where other actions answer C(201); both are taken as success.
  - In check mode (with O(confirm=true)) the module resolves the devices and looks for offboardings, and reports
    what it would submit without submitting it.
seealso:
  - module: secops.defender.defender_machine_info
  - name: Offboard machine API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/offboard-machine-api
"""

EXAMPLES = r"""
- name: Offboard decommissioned devices
  secops.defender.defender_offboard:
    machines: "{{ decommissioned }}"
    comment: "CHG-1234: decommissioned"
    confirm: true
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
      description: The offboarding submitted, or the one found pending, running or succeeded; V(null) in
        check mode.
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
  description: How many devices got a new offboarding, already had one, would get one (check mode), or failed.
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
  description: The id of the offboarding that was submitted, or of the one found.
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
  returned: with O(machine_id) or O(machine_name)
  type: dict
  sample:
    id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
    type: Offboard
    status: Succeeded
    machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    requestorComment: "CHG-1234: decommissioned"
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

from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import (
    FLEET_ARGSPEC,
    TARGET_ARGSPEC,
    TARGET_KWARGS,
    WAIT_ARGSPEC,
)
from ansible_collections.secops.defender.plugins.module_utils._offboard import SPEC, options


def main():
    argument_spec = dict(
        confirm=dict(type="bool", default=False),
        comment=dict(type="str", default="Offboarded by Ansible (secops.defender)"),
    )
    for shared in (TARGET_ARGSPEC, FLEET_ARGSPEC, WAIT_ARGSPEC):
        argument_spec.update(shared)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(run)


def run(module):
    return module.action_result(SPEC, options(module.params["confirm"], module.params["comment"]))


if __name__ == "__main__":
    main()
