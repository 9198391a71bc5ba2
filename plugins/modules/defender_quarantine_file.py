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
  sample: {calls: 1003, paced_calls: 900, paced_seconds: 412.5, rate_limited: 0}
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
  description: The id of the device, in lower case.
  returned: for one device (not with O(machines))
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: for one device (not with O(machines))
  type: str
  sample: ws-fin-001.corp.example.com
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
wait_progress:
  description:
    - What a wait longer than a minute said once a minute, how many actions were still open (by status) and the ones
      open longest, by device name. Shown at C(-v).
  returned: when the task waited longer than a minute
  type: list
  elements: str
  sample:
    - "After 60 s of waiting: 1 of 2 action(s) still open (1 Pending); open longest: lt-sales-007.corp.example.com
      (StopAndQuarantineFile Pending since 2026-12-01T16:02:11Z)."
  version_added: 0.3.0
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
