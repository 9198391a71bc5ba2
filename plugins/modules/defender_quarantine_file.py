#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_quarantine_file
short_description: Stop a file by SHA-1 and quarantine it, on one device or a whole fleet
version_added: 0.1.0
description:
  - Asks Microsoft Defender for Endpoint to stop the running processes of a file and quarantine it (the
    C(StopAndQuarantineFile) machine action), on one device (O(machine_id) or O(machine_name)) or on many in one
    task (O(machines)).
  - Before it submits, it looks for an equal action (same device, same SHA-1) that is V(Pending), V(InProgress) or
    V(Succeeded), with one paged query for the whole list. A device that has one is reported with
    C(changed=false) instead of getting a duplicate. A V(Failed), V(TimeOut) or V(Cancelled) one does not count.
  - Parallel tasks (forks, other plays) that quarantine the same file on the same device take turns on a lock on
    the controller, so the second one finds the first one's action instead of submitting another.
  - If the outcome of a submission is unknown (a timeout, a server error or a dropped connection), the action is
    looked for over a short window before it is ever sent again.
  - Every call is paced through the tenant's rate budget, shared by all tasks on the controller (O(rate_budget)).
  - The API supports Windows 10 version 1703 or later and Windows 11. Other platforms fail with the API's
    C(OsPlatformNotSupported).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  sha1:
    description:
      - The SHA-1 of the file, 40 hexadecimal characters in any case. It is sent in lower case.
      - SHA-256 and MD5 are refused with a message that says so; the API takes SHA-1 only.
    type: str
    required: true
  comment:
    description:
      - The comment recorded with the action, shown in the Defender portal's action center.
    type: str
    default: Stop and quarantine file, requested by Ansible (secops.defender)
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.auth.MACHINE
  - secops.defender.auth.DEDUPE
  - secops.defender.auth.WAIT
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Machine.StopAndQuarantine), and C(Machine.Read.All) to find devices and
    look for equal actions.
  - The C(secops.defender.quarantine_file) role wraps this module for a fleet and prints one line per device.
  - In check mode the module resolves the devices (reading each one given by id) and looks for equal actions, but
    submits nothing; RV(results) shows which devices would get a new action.
  - "API calls per device for a list: about one (the POST), plus one look-up and a few list polls for the whole
    list, plus a few name queries when names are given."
seealso:
  - module: secops.defender.defender_cancel_action
  - module: secops.defender.defender_machine_action_info
  - name: Stop and quarantine file API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/stop-and-quarantine-file
"""

EXAMPLES = r"""
- name: Quarantine a file on every affected device, in one task
  secops.defender.defender_quarantine_file:
    machines: "{{ affected_devices }}"   # ids and computer names, mixed
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    comment: "INC-4711: malicious invoice attachment"
  register: quarantine

- name: Show one line per device
  ansible.builtin.debug:
    msg: "{{ item.machine }}: {{ item.status }} {{ item.msg }}"
  loop: "{{ quarantine.results }}"
  loop_control:
    label: "{{ item.machine }}"

- name: Keep going when some devices fail, and decide in the playbook
  secops.defender.defender_quarantine_file:
    machines: "{{ affected_devices }}"
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    fail_on_device_error: false
  register: quarantine

- name: One device, by name
  secops.defender.defender_quarantine_file:
    machine_name: ws-fin-001.corp.example.com
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f

# The credentials come from the environment (DEFENDER_CLIENT_SECRET..., or an AWX credential): a secret given as a
# task argument lands in the module's temporary payload on disk.
- name: Set the connection options once per play, and leave half the tenant's rate budget to other tools
  hosts: localhost
  module_defaults:
    group/secops.defender.defender:
      cloud: commercial
      rate_limits:
        default: [[50, 60], [750, 3600]]
  tasks:
    - name: Quarantine
      secops.defender.defender_quarantine_file:
        machines: [ws-fin-002, 1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
        sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
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
      description: The action submitted, or the equal one found; V(null) in check mode or when nothing was
        submitted.
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
  description: How many devices got a new action, already had an equal one, would get one (check mode), or
    failed.
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
  sample: {calls: 1003, paced_calls: 900, paced_seconds: 412.5, rate_limited: 0}
action_id:
  description: The id of the action that was submitted, or of the equal action that was found. V(null) in check
    mode when an action would be submitted.
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
    type: StopAndQuarantineFile
    status: Succeeded
    machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    requestorComment: "INC-4711: malicious invoice attachment"
    relatedFileInfo:
      fileIdentifier: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
      fileIdentifierType: Sha1
sha1:
  description: The SHA-1 as it was sent, in lower case.
  returned: always
  type: str
  sample: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
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
      description: The API's error code, for example V(InvalidHashValue) or V(OsPlatformNotSupported).
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
    DEDUPE_ARGSPEC,
    FLEET_ARGSPEC,
    TARGET_ARGSPEC,
    TARGET_KWARGS,
    WAIT_ARGSPEC,
)
from ansible_collections.secops.defender.plugins.module_utils._quarantine import SPEC, options


def main():
    argument_spec = dict(
        sha1=dict(type="str", required=True),
        comment=dict(type="str", default="Stop and quarantine file, requested by Ansible (secops.defender)"),
    )
    for shared in (TARGET_ARGSPEC, FLEET_ARGSPEC, DEDUPE_ARGSPEC, WAIT_ARGSPEC):
        argument_spec.update(shared)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(quarantine)


def quarantine(module):
    checked = options(module.params["sha1"], module.params["comment"])
    return dict(module.action_result(SPEC, checked), sha1=checked["sha1"])


if __name__ == "__main__":
    main()
