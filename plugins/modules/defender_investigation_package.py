#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_investigation_package
short_description: Collect investigation packages and bring them home, on one device or a whole fleet
version_added: 0.2.0
description:
  - Asks Microsoft Defender for Endpoint to collect an investigation package (the C(CollectInvestigationPackage)
    machine action, with autoruns, installed programs, network connections, prefetch, processes, scheduled tasks,
    security event logs, services, users and more) on one device (O(machine_id) or O(machine_name)) or on many
    in one task (O(machines)), waits for it, and with O(dest) downloads each device's package as soon as its
    collection ends.
  - A collection that is V(Pending) or V(InProgress) on a device is waited on, not duplicated; one that
    V(Succeeded) within O(dedupe_lookback_days) is reused. The API refuses a second collection while one runs.
  - Each package is written to C(dest/<computer name>-<first 12 characters of the device id>/investigation-package-<action id>.zip)
    (the computer name made safe for a file name, so two devices never share a folder, even with one name)
    atomically (a temporary file, then a name claimed without replacing any file), hashed while it is written,
    and not downloaded again when it is already there. The action id and device id are checked by shape (a GUID,
    40 hexadecimal characters) before they are used in a path or URL.
  - C(getPackageUri) answers 404 until the package is ready, so it is asked again a few times. Its documented
    answer is a URL wrapped in literal quotes on a download host; the quotes are removed, and the bearer token is
    never sent to that host. The link is logged as scheme, host and path only.
  - Every call is paced through the tenant's rate budget (O(rate_budget)). C(getPackageUri) has its own limit of
    2 calls a minute and 120 an hour, so a fleet's downloads are paced to that.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  dest:
    description:
      - The folder to download the packages into, one subfolder per device. Without it the packages are
        collected but not downloaded.
    type: path
  comment:
    description:
      - The comment recorded with the action, shown in the Defender portal's action center. Put the ticket in it.
    type: str
    default: Investigation package collected by Ansible (secops.defender)
  force:
    description:
      - Collect a new package even when one is running or succeeded recently.
    type: bool
    default: false
  dedupe_lookback_days:
    description:
      - How recent a succeeded collection must be to be reused instead of collecting again.
    type: int
    default: 1
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.auth.MACHINE
  - secops.defender.auth.WAIT
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Machine.CollectForensics), and C(Machine.Read.All) (or
    C(Machine.ReadWrite.All)) to find devices, read their actions and get the package URI (C(getPackageUri) needs
    read permission, not C(Machine.CollectForensics)).
  - With O(wait=false) only the collections are started; run the task again with O(wait=true) and O(dest) to
    download them (the running or recent collection is reused).
  - In check mode the module resolves the devices and looks for running or recent collections, and reports what it
    would submit; it downloads nothing.
seealso:
  - module: secops.defender.defender_live_response
  - name: Collect investigation package API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/collect-investigation-package
  - name: Get package SAS URI API
    description: The call that gives the download link.
    link: https://learn.microsoft.com/defender-endpoint/api/get-package-sas-uri
"""

EXAMPLES = r"""
- name: Collect and download investigation packages from the affected devices
  secops.defender.defender_investigation_package:
    machines: "{{ affected_devices }}"
    comment: "INC-4711: investigation package"
    dest: evidence/INC-4711
  register: packages

- name: Show where each package is
  ansible.builtin.debug:
    msg: "{{ item.machine }}: {{ item.package.path | default(item.msg) }} {{ item.package.sha256 | default('') }}"
  loop: "{{ packages.results }}"
  loop_control:
    label: "{{ item.machine }}"
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
    package:
      description: The downloaded package (with O(dest), when the collection succeeded).
      returned: with O(dest), when the collection succeeded
      type: dict
      contains:
        path:
          description: Where the package is, C(dest/<computer name>-<first 12 characters of the device
            id>/investigation-package-<action id>.zip).
          type: str
        size:
          description: Its size in bytes.
          type: int
        sha256:
          description: Its SHA-256, computed while it was written.
          type: str
        downloaded:
          description: Whether this task downloaded it (V(false) when it was already there).
          type: bool
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
    type: CollectInvestigationPackage
    status: Succeeded
    machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    requestorComment: "INC-4711: investigation package"
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
package:
  description: The downloaded package (the same keys as in RV(results)).
  returned: for one device (not with O(machines)), with O(dest), when the collection succeeded
  type: dict
  sample:
    path: /evidence/INC-4711/ws-fin-001.corp.example.com-1e5bc9d7e413/investigation-package-7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01.zip
    size: 18874368
    sha256: 9f2c0a6d3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d
    downloaded: true
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

from ansible_collections.secops.defender.plugins.module_utils._investigation import investigation_package
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import (
    FLEET_ARGSPEC,
    TARGET_ARGSPEC,
    TARGET_KWARGS,
    WAIT_ARGSPEC,
)


def main():
    argument_spec = dict(
        dest=dict(type="path"),
        comment=dict(type="str", default="Investigation package collected by Ansible (secops.defender)"),
        force=dict(type="bool", default=False),
        dedupe_lookback_days=dict(type="int", default=1),
    )
    for shared in (TARGET_ARGSPEC, FLEET_ARGSPEC, WAIT_ARGSPEC):
        argument_spec.update(shared)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(run)


def run(module):
    return investigation_package(module.client, module.fleet_request(), comment=module.params["comment"],
                                 dest=module.params["dest"])


if __name__ == "__main__":
    main()
