#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_quarantine_file
short_description: Stop a file by SHA-1 on a device and quarantine it
version_added: 0.1.0
description:
  - Asks Microsoft Defender for Endpoint to stop the running processes of a file and quarantine it on one device
    (the C(StopAndQuarantineFile) machine action).
  - Before it submits, it looks for an equal action on the same device (same SHA-1) that is V(Pending),
    V(InProgress) or V(Succeeded). If there is one, it reports that action with C(changed=false) instead of
    creating a duplicate. A V(Failed), V(TimeOut) or V(Cancelled) one does not count.
  - If the outcome of the submission is unknown (a timeout, a server error or a dropped connection), it looks the
    action up before it sends again, so an unreliable network cannot create two actions.
  - The API supports Windows 10 version 1703 or later and Windows 11. Other platforms get a clear error.
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
  force:
    description:
      - Submit a new action even when an equal one is pending, running or succeeded.
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
  - Needs the application permission C(Machine.StopAndQuarantine), and C(Machine.Read.All) to find the device and
    look for equal actions.
  - In check mode the module resolves the device and looks for an equal action, but submits nothing.
seealso:
  - module: secops.defender.defender_cancel_action
  - module: secops.defender.defender_machine_action_info
  - name: Stop and quarantine file API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/stop-and-quarantine-file
"""

EXAMPLES = r"""
- name: Quarantine a file on one device and wait for it
  secops.defender.defender_quarantine_file:
    machine_name: ws-fin-001.corp.example.com
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    comment: "INC-4711: malicious invoice attachment"

- name: Submit on many devices without waiting; connection options come from module_defaults
  secops.defender.defender_quarantine_file:
    machine_id: "{{ item }}"
    sha1: "{{ bad_sha1 }}"
    wait: false
  loop: "{{ affected_machine_ids }}"

- name: Set the connection once per play
  hosts: localhost
  module_defaults:
    group/secops.defender.defender:
      tenant_id: "{{ defender_tenant_id }}"
      client_id: "{{ defender_client_id }}"
      client_secret: "{{ defender_client_secret }}"
  tasks:
    - name: Quarantine
      secops.defender.defender_quarantine_file:
        machine_name: ws-fin-002
        sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
"""

RETURN = r"""
action_id:
  description: The id of the action that was submitted, or of the equal action that was found. V(null) in check
    mode when an action would be submitted.
  returned: always
  type: str
  sample: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
status:
  description: The action's status when the module finished (V(Pending), V(InProgress), V(Succeeded), V(Failed),
    V(TimeOut) or V(Cancelled)).
  returned: always
  type: str
  sample: Succeeded
machine_action:
  description: The MachineAction entity as the API returned it, unmodified.
  returned: always
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
machine_id:
  description: The id of the device.
  returned: always
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: always
  type: str
  sample: ws-fin-001.corp.example.com
sha1:
  description: The SHA-1 as it was sent, in lower case.
  returned: always
  type: str
  sample: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
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

from ansible_collections.secops.defender.plugins.module_utils._machines import MACHINE_TARGET_KWARGS, MACHINE_TARGET_SPEC
from ansible_collections.secops.defender.plugins.module_utils._module import WAIT_ARGSPEC, DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._quarantine import run


def main():
    argument_spec = dict(
        sha1=dict(type="str", required=True),
        comment=dict(type="str", default="Stop and quarantine file, requested by Ansible (secops.defender)"),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(MACHINE_TARGET_SPEC)
    argument_spec.update(WAIT_ARGSPEC)
    module = DefenderModule(argument_spec, supports_check_mode=True, **MACHINE_TARGET_KWARGS)
    module.run(lambda m: run(m.client, m.params, m.check_mode))


if __name__ == "__main__":
    main()
