#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_machine_action_info
short_description: Get or list Defender for Endpoint machine actions
version_added: 0.1.0
description:
  - Gets one machine action by id, or lists actions filtered by device, type, status and requestor, following pages.
  - With O(wait=true) and O(action_id), waits until that action is final and returns it as it ended, whatever the
    status. Use it to wait on actions submitted with C(wait=false), for example across a fleet.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  action_id:
    description:
      - The id (a GUID) of one action.
    type: str
  machine_id:
    description:
      - Only actions on this device.
    type: str
  machine_name:
    description:
      - Only actions on this device, found by its computer DNS name (it must match exactly one device).
    type: str
  machines:
    description:
      - Only actions on these devices, each a device id or a computer name, in one task for a whole fleet.
      - Names are found with a few bulk queries; the actions come from one paged list query per 20 devices (or,
        for more than 200 devices, one query over the tenant filtered by O(type) and O(status)).
      - Each device gets a row in RV(results); a name that matches no device or several fails its row, not the
        task.
    type: list
    elements: str
    version_added: 0.3.0
  type:
    description:
      - Only actions of these types, for example V(LiveResponse) or V(StopAndQuarantineFile).
    type: list
    elements: str
    choices: [RunAntiVirusScan, Offboard, LiveResponse, CollectInvestigationPackage, Isolate, Unisolate,
              StopAndQuarantineFile, RestrictCodeExecution, UnrestrictCodeExecution]
  status:
    description:
      - Only actions with these statuses.
    type: list
    elements: str
    choices: [Pending, InProgress, Succeeded, Failed, TimeOut, Cancelled]
  requestor:
    description:
      - Only actions requested by this user or app.
    type: str
  filter:
    description:
      - An extra raw OData C($filter) clause, joined to the others with C(and).
      - The API filters actions only on id, status, machineId, type, requestor and creationDateTimeUtc. A filter
        that names another property is refused before anything is sent.
    type: str
  limit:
    description:
      - The most actions to return.
    type: int
  wait:
    description:
      - With O(action_id), wait until the action is final (V(Succeeded), V(Failed), V(TimeOut) or V(Cancelled)).
      - The task does not fail because of the final status; the playbook reads the status in RV(actions).
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait at most. The task fails when the wait runs out.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two reads of the action while waiting.
    type: int
    default: 10
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Machine.Read.All) or C(Machine.ReadWrite.All).
  - Live response sessions started from the portal are not listed by the API.
seealso:
  - module: secops.defender.defender_cancel_action
  - name: List machine actions API
    description: Microsoft's documentation of the API this module calls, and the properties it filters on.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-machineactions-collection
"""

EXAMPLES = r"""
- name: Start a quick scan and move on
  secops.defender.defender_av_scan:
    machine_name: ws-fin-001.corp.example.com
    scan_type: Quick
    wait: false
  register: submitted

- name: One action
  secops.defender.defender_machine_action_info:
    action_id: "{{ submitted.action_id }}"

- name: Wait for an action submitted earlier with wait=false
  secops.defender.defender_machine_action_info:
    action_id: "{{ submitted.action_id }}"
    wait: true
    wait_timeout: 600
  register: ended

- name: Everything still open on a device
  secops.defender.defender_machine_action_info:
    machine_name: ws-fin-001.corp.example.com
    status: [Pending, InProgress]
  register: open_actions
"""

RETURN = r"""
results:
  description: With O(machines), one row per device given, in order.
  returned: when O(machines) is given
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
    actions:
      description: How many of RV(actions) are on this device.
      type: int
    failed:
      description: Whether this device failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
failed_machines:
  description: The devices that failed, as they were given, in the order given.
  returned: when O(machines) is given
  type: list
  elements: str
actions:
  description: The MachineAction entities found, as the API returned them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
      type: StopAndQuarantineFile
      status: Pending
      machineId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
count:
  description: How many actions were found.
  returned: always
  type: int
  sample: 1
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

from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService, check_guid
from ansible_collections.secops.defender.plugins.module_utils._machines import (
    ambiguous_message,
    check_machine_id,
    not_found_message,
    resolve,
    resolve_names,
    target_list,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._odata import ACTION_FILTERABLE, check_filter, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._specs import ACTION_TYPES


# The most devices queried by id at all: beyond, one query over the tenant (by type and status) costs fewer calls.
MAX_BY_ID = 200


def fleet_actions(client, params, service):
    """The actions of many devices, and one row per device."""
    if params["filter"]:
        check_filter(params["filter"], ACTION_FILTERABLE, entity="machine actions")
    targets = target_list(machines=params["machines"])
    names = [given for given, kind in targets if kind == "name"]
    found = resolve_names(client, names) if names else {}
    rows = []
    for given, kind in targets:
        row = {"machine": given, "machine_id": given if kind == "id" else None, "machine_name": None,
               "actions": 0, "failed": False, "msg": ""}
        if kind == "name":
            matches = found.get(given) or []
            if len(matches) == 1:
                row["machine_id"], row["machine_name"] = matches[0]["id"].lower(), matches[0].get("computerDnsName")
            else:
                row["failed"] = True
                row["msg"] = ambiguous_message(given, matches) if matches else not_found_message(given)
        rows.append(row)
    ids = sorted(set(r["machine_id"] for r in rows if r["machine_id"]))
    kwargs = dict(types=params["type"], statuses=params["status"], requestor=params["requestor"],
                  odata_filter=params["filter"])
    if len(ids) > MAX_BY_ID:
        chunks = [None]
    else:
        chunks = in_chunks(ids)
    wanted, actions = set(ids), []
    for chunk in chunks:
        actions.extend(a for a in service.list(machine_ids=chunk, **kwargs)
                       if (a.get("machineId") or "").lower() in wanted)
    if params["limit"]:
        actions = actions[:params["limit"]]
    for row in rows:
        mine = [a for a in actions if (a.get("machineId") or "").lower() == row["machine_id"]]
        row["actions"] = len(mine)
        row["machine_name"] = row["machine_name"] or next((a.get("computerDnsName") for a in mine), None)
    return {"changed": False, "actions": actions, "count": len(actions), "results": rows,
            "failed_machines": [r["machine"] for r in rows if r["failed"]]}


def run(client, params):
    service = ActionService(client)
    if params["action_id"]:
        action = service.get(check_guid(params["action_id"]))
        if params["wait"]:
            action = service.wait(action, params["wait_timeout"], params["poll_interval"], want=None)
        actions = [action]
    elif params["machines"] is not None:
        return fleet_actions(client, params, service)
    else:
        machine_id = check_machine_id(params["machine_id"]) if params["machine_id"] else None
        if params["filter"]:
            check_filter(params["filter"], ACTION_FILTERABLE, entity="machine actions")
        if params["machine_name"]:
            machine_id = resolve(client, machine_name=params["machine_name"])["id"]
        actions = service.list(machine_ids=[machine_id] if machine_id else None, types=params["type"],
                               statuses=params["status"], requestor=params["requestor"],
                               odata_filter=params["filter"], limit=params["limit"])
    return {"changed": False, "actions": actions, "count": len(actions)}


def main():
    argument_spec = dict(
        action_id=dict(type="str"),
        machine_id=dict(type="str"),
        machine_name=dict(type="str"),
        machines=dict(type="list", elements="str"),
        type=dict(type="list", elements="str", choices=list(ACTION_TYPES)),
        status=dict(type="list", elements="str",
                    choices=["Pending", "InProgress", "Succeeded", "Failed", "TimeOut", "Cancelled"]),
        requestor=dict(type="str"),
        filter=dict(type="str"),
        limit=dict(type="int"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
        poll_interval=dict(type="int", default=10),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, required_if=[("wait", True, ("action_id",))],
                            mutually_exclusive=[("action_id", "machine_id", "machine_name", "machines"),
                                                ("action_id", "type"), ("action_id", "status"),
                                                ("action_id", "requestor"), ("action_id", "filter")])
    module.run(lambda m: run(m.client, m.params))


if __name__ == "__main__":
    main()
