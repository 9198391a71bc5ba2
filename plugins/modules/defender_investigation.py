#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_investigation
short_description: Start an automated investigation, on one device or a whole fleet
version_added: 0.3.0
description:
  - Starts a Defender for Endpoint automated investigation (AIR) on one device (O(machine_id) or O(machine_name))
    or on many in one task (O(machines)). This is not the investigation package; for that see
    M(secops.defender.defender_investigation_package).
  - An investigation that is still open on a device (V(Queued), V(Running), V(PendingApproval),
    V(PendingResource) or V(Unknown)) is reused with C(changed=false) instead of starting another; the open ones
    are found for the whole list with one paged query per 20 devices. One that has ended does not count, so running
    the task again after it ended starts a new one.
  - The API allows 50 starts an hour. The starts are paced through the tenant's rate budget (its
    C(startinvestigation) class, shared by every task on the controller), so a list longer than that waits for the
    next hour's slots instead of failing. Every 50 devices beyond the first 50 that need a new investigation add
    about an hour (60 devices take about an hour, 101 about two). Each start waits at most O(max_retry_wait) for
    its slot; the default, 3600 seconds, is one window, which is the longest a start waits unless other tasks spend
    the same budget. With a shorter O(max_retry_wait), the devices beyond the first 50 fail with
    C(RateBudgetSpent). The task warns up front when its starts need more than one window, and RV(rate_budget)
    shows the waits.
  - A start whose outcome is unknown (the connection dropped, the API answered 5xx) is never sent again blind. The
    investigation entity has no comment or external id, so the module looks for one on the same device started since
    shortly before the task began that it had not seen before, and sends once more only when there is none. While a
    start is sent, the device's submit lock is held, so parallel tasks (forks, plays) never start a second one.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  machines:
    description:
      - The devices to investigate, in one task. Each item is a Defender machine id (40 hexadecimal characters) or a
        computer DNS name; a short name such as V(ws-fin-001) also matches V(ws-fin-001.<domain>).
      - Ids need no look-up; names are found with a few paged queries for the whole list. A name that matches no
        device, or several, fails that device only.
      - The result has one row per device in RV(results); the task fails at the end if any device failed, unless
        O(fail_on_device_error=false).
      - Exactly one of O(machines), O(machine_id) and O(machine_name) is required.
    type: list
    elements: str
  machine_id:
    description:
      - The Defender machine id of one device, 40 hexadecimal characters. An unknown id fails with the API's 404.
    type: str
  machine_name:
    description:
      - The computer DNS name of one device; it must match exactly one machine.
    type: str
  comment:
    description:
      - The comment recorded with the investigation (the API requires one). Put the ticket in it.
    type: str
    default: Automated investigation started by Ansible (secops.defender)
  concurrency:
    description:
      - How many starts run at once. The rate budget paces them in any case.
    type: int
    default: 10
  fail_on_device_error:
    description:
      - With O(machines), whether the task fails at the end when any device failed. The other devices are
        investigated either way, and every row is returned.
    type: bool
    default: true
  wait:
    description:
      - Whether to wait until every investigation (started or reused) has left the open states.
      - A device whose investigation ended V(Failed), V(InnerFailure), V(Terminated), V(TerminatedByUser),
        V(TerminatedBySystem), V(UnsupportedOs), V(UnsupportedAlertType), V(SuppressedAlert) or V(PreexistingAlert)
        fails; V(Benign), V(SuccessfullyRemediated), V(PartiallyRemediated) and V(PartiallyInvestigated) do not (read
        RV(results[].state)).
      - Without a wait, a device fails only when its investigation could not be started (or has already ended in one
        of the states above).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most, counted from when the last investigation was started. A device whose
        investigation is still open then fails (one in V(PendingApproval) waits for someone to approve its actions in
        the portal); the investigation goes on in Defender.
    type: int
    default: 900
  poll_interval:
    description:
      - The longest pause between two reads while waiting. Each read is one list query for the whole fleet.
    type: int
    default: 10
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Alert.ReadWrite.All) (to start and read investigations), and
    C(Machine.Read.All) to find devices by name.
  - Automated investigation runs on Windows 10 (1709 and later with the updates Learn names), Windows 11, Windows
    Server 2019 and later and Azure Stack HCI OS 23H2 and later. Other devices fail with the API's refusal (for
    example C(OsPlatformNotSupported)), and the message says where it runs.
  - In check mode the module resolves the devices and looks for open investigations, and reports what it would
    start and what it would reuse, without starting anything.
  - What the API returns (device names, status details) is the tenant's data, set by whoever controls a device;
    treat it as untrusted text.
seealso:
  - module: secops.defender.defender_investigation_info
  - name: Start Investigation API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/initiate-autoir-investigation
  - name: Investigation resource type
    description: The investigation entity and its states.
    link: https://learn.microsoft.com/defender-endpoint/api/investigation
"""

EXAMPLES = r"""
- name: Investigate one device and wait for the verdict
  secops.defender.defender_investigation:
    machine_name: ws-fin-001.corp.example.com
    comment: "INC-4711: suspicious logon"
  register: air

- name: Start investigations on a fleet and move on; a rerun while they go on reuses them
  secops.defender.defender_investigation:
    machines:
      - ws-fin-001.corp.example.com
      - 2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d
    comment: "INC-4711: sweep"
    wait: false
    fail_on_device_error: false
  register: sweep

- name: Show each device's investigation
  ansible.builtin.debug:
    msg: "{{ sweep.results | map(attribute='machine') | zip(sweep.results | map(attribute='state')) | list }}"
"""

RETURN = r"""
results:
  description:
    - One row per device, in the order given; the same id or name given twice makes one row. A device given both by id
      and by name is investigated once, and its second row fails and says so.
  returned: always
  type: list
  elements: dict
  contains:
    machine:
      description: The device as it was given, a name or an id (ids in lower case).
      type: str
    machine_id:
      description: The device's machine id, in lower case; V(null) when it is not known, for example for a name
        that matched no device, or several.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    investigation_id:
      description: The id of the investigation started or reused; V(null) in check mode for a device that would get
        a new one, and for a device that failed before one was started.
      type: str
    state:
      description: The investigation's state when the module finished, for example V(Queued), V(Running),
        V(Benign) or V(Failed); V(null) when there is none.
      type: str
    reused:
      description: Whether the investigation was already open on the device (or was started meanwhile by another
        task) and nothing was started.
      type: bool
    investigation:
      description: The investigation entity as the API returned it, unmodified (untrusted text); V(null) when there
        is none.
      type: dict
    changed:
      description: Whether an investigation was started for this device (in check mode, whether one would be).
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
      investigation_id: "63017"
      state: Benign
      reused: false
      investigation:
        id: "63017"
        startTime: "2026-01-06T14:11:34Z"
        endTime: "2026-01-06T14:13:02Z"
        state: Benign
        cancelledBy: null
        statusDetails: null
        machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
        computerDnsName: ws-fin-001.corp.example.com
        triggeringAlertId: da637139166940871892_-598649278
      changed: true
      failed: false
      msg: Started automated investigation 63017.
failed_machines:
  description: The devices that failed, as they were given, in the order given.
  returned: always
  type: list
  elements: str
  sample: [srv-web-01.corp.example.com]
summary:
  description: How many devices got a new investigation, had one reused, would get one (check mode) or failed, and
    how many investigations are in each state. Each device counts once.
  returned: always
  type: dict
  contains:
    devices:
      description: How many rows RV(results) has.
      type: int
    started:
      description: The devices an investigation was started for.
      type: int
    reused:
      description: The devices whose open investigation was reused.
      type: int
    would_start:
      description: In check mode, the devices that would get a new investigation.
      type: int
    failed:
      description: The devices that failed, as in RV(failed_machines).
      type: int
    states:
      description: How many rows have each investigation state.
      type: dict
  sample: {devices: 3, started: 1, reused: 1, would_start: 0, failed: 1, states: {Benign: 1, Running: 1}}
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
  sample: {calls: 62, paced_calls: 10, paced_seconds: 1820.5, rate_limited: 0}
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
investigation_id:
  description: The id of the investigation started or reused, as in RV(results[].investigation_id).
  returned: for one device (not with O(machines))
  type: str
  sample: "63017"
state:
  description: The investigation's state when the module finished.
  returned: for one device (not with O(machines))
  type: str
  sample: Benign
reused:
  description: Whether the investigation was already open and was reused.
  returned: for one device (not with O(machines))
  type: bool
  sample: false
investigation:
  description: The investigation entity as the API returned it, unmodified (untrusted text).
  returned: for one device (not with O(machines))
  type: dict
  sample: {id: "63017", state: Running, machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07}
error:
  description: Why the task failed. For an error the API answered, what it said; for any other failure (bad
    input, no connection, a check that did not pass) the module's own reason, with V(null) for what does not
    apply.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request; V(null) when no HTTP answer is behind the failure.
      type: int
    code:
      description: The API's error code, for example V(ResourceNotFound) or V(OsPlatformNotSupported) (see
        L(the API's error codes,https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors)), or the
        module's own, for example V(ConnectTimeout), V(RateBudgetSpent) or V(UnexpectedResponse); V(null) when
        there is none.
      type: str
    message:
      description: The API's error message, or the module's own when the API gave none.
      type: str
    correlation_id:
      description: The id Microsoft support asks for, the C(target) of the API's error (or the answer's
        request id header when the error has none); V(null) when the answer had neither.
      type: str
    method:
      description: The HTTP method of the failed request; V(null) when no request failed.
      type: str
    path:
      description: The path of the failed request (for a download, without its query, which is a
        credential); V(null) when no request failed.
      type: str
"""

from ansible_collections.secops.defender.plugins.module_utils._automated_investigation import start_investigations
from ansible_collections.secops.defender.plugins.module_utils._connection import submit_locks
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetRequest
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import (
    TARGET_ARGSPEC,
    TARGET_KWARGS,
    WAIT_ARGSPEC,
    argspec,
)


def main():
    argument_spec = argspec(dict(
        comment=dict(type="str", default="Automated investigation started by Ansible (secops.defender)"),
        concurrency=dict(type="int", default=10),
        fail_on_device_error=dict(type="bool", default=True),
    ), TARGET_ARGSPEC, WAIT_ARGSPEC)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(run)


def run(module):
    params = module.params
    targets = target_list(params["machine_id"], params["machine_name"], params["machines"])
    request = FleetRequest(targets, single=not params["machines"], check_mode=module.check_mode,
                           wait=params["wait"], wait_timeout=params["wait_timeout"],
                           poll_interval=params["poll_interval"], concurrency=params["concurrency"],
                           fail_on_device_error=params["fail_on_device_error"],
                           locks=submit_locks(params, module.client.api_url, module.warn))
    return start_investigations(module.client, request, params["comment"])


if __name__ == "__main__":
    main()
