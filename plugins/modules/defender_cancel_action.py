#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_cancel_action
short_description: Cancel a machine action that has not finished
version_added: 0.1.0
description:
  - Cancels a Microsoft Defender for Endpoint machine action that is still V(Pending) or V(InProgress).
  - An action that is already final (V(Succeeded), V(Failed), V(TimeOut) or V(Cancelled)) is left alone with
    C(changed=false), and RV(previous_status) says which status it had.
  - If the action finishes between the read and the cancel and the API refuses, the module reads it again and
    reports what is true instead of failing.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  action_id:
    description:
      - The id (a GUID) of the machine action to cancel.
      - Exactly one of O(action_id) and O(action_ids) is required.
    type: str
  action_ids:
    description:
      - The ids of many machine actions to cancel in one task, for example every open action found with
        M(secops.defender.defender_machine_action_info).
      - They are read with one list query per 20 ids, the open ones are cancelled concurrently (the API has no
        batch cancel), and O(wait) polls one list query for all of them.
      - Actions that are already final are reported, not cancelled.
    type: list
    elements: str
    version_added: 0.3.0
  fail_on_action_error:
    description:
      - With O(action_ids), fail the task when any action could not be cancelled (unknown id, refused, or not
        V(Cancelled) after O(wait)). Set to V(false) to get every row and decide in the play.
    type: bool
    default: true
    version_added: 0.3.0
  comment:
    description:
      - The cancellation comment recorded with the action.
    type: str
    default: Cancelled by Ansible (secops.defender)
  wait:
    description:
      - Wait until the action is final after cancelling, and fail if it ends in any status but V(Cancelled).
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait at most when O(wait=true).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of the action while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission of the action being cancelled (for example C(Machine.LiveResponse) or
    C(Machine.StopAndQuarantine)), and C(Machine.Read.All).
  - Live response sessions started from the portal are not visible through the API and cannot be cancelled here.
seealso:
  - module: secops.defender.defender_machine_action_info
  - name: Cancel machine action API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/cancel-machine-action
"""

EXAMPLES = r"""
- name: Start triage on a laptop that is offline; the session waits in Defender until the laptop is back
  secops.defender.defender_live_response:
    machine_name: lt-sales-007.corp.example.com
    comment: "INC-4711: triage"
    commands:
      - type: RunScript
        script_name: collect_triage.ps1
    wait: false
  register: stuck

- name: Cancel the live response that is stuck on the offline laptop
  secops.defender.defender_cancel_action:
    action_id: "{{ stuck.action_id }}"
    comment: "INC-4711: device is being reimaged"

- name: Quarantine a file there too, without waiting
  secops.defender.defender_quarantine_file:
    machine_name: lt-sales-007.corp.example.com
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    wait: false
  register: quarantine

- name: Cancel and make sure it took
  secops.defender.defender_cancel_action:
    action_id: "{{ quarantine.action_id }}"
    wait: true

- name: Find every open action on a fleet, then cancel them all in one task
  secops.defender.defender_machine_action_info:
    machines: "{{ groups['tag_ir_hold'] | map('extract', hostvars, 'defender_id') | list }}"
    status: [Pending, InProgress]
  register: open_actions

- name: Cancel them
  secops.defender.defender_cancel_action:
    action_ids: "{{ open_actions.actions | map(attribute='id') | list }}"
    comment: "INC-4711: containment lifted"
    wait: true
  when: open_actions.actions | length > 0
"""

RETURN = r"""
results:
  description: With O(action_ids), one row per action, in the order given.
  returned: when O(action_ids) is given
  type: list
  elements: dict
  contains:
    action_id:
      description: The action's id.
      type: str
    machine_id:
      description: The device's id.
      type: str
    machine_name:
      description: The device's computer DNS name.
      type: str
    type:
      description: The action's type.
      type: str
    previous_status:
      description: The status before the task.
      type: str
    status:
      description: The status when the task finished.
      type: str
    changed:
      description: Whether a cancel was sent (or would be, in check mode).
      type: bool
    failed:
      description: Whether this action could not be cancelled.
      type: bool
    msg:
      description: Why not, or what check mode would do.
      type: str
    error:
      description: Why this action could not be cancelled, with the same keys as RV(error).
      returned: when this action failed
      type: dict
failed_actions:
  description: With O(action_ids), the ids of the actions that could not be cancelled.
  returned: when O(action_ids) is given
  type: list
  elements: str
summary:
  description: With O(action_ids), counts of the rows.
  returned: when O(action_ids) is given
  type: dict
  contains:
    actions:
      description: Actions given.
      type: int
    cancelled:
      description: Cancels sent.
      type: int
    would_cancel:
      description: In check mode, cancels that would be sent.
      type: int
    already_final:
      description: Actions that were already final.
      type: int
    failed:
      description: Actions that could not be cancelled.
      type: int
rate_budget:
  description: What this task saw of the tenant's rate budget, shared by every task on the controller (see
    O(rate_budget)). Shown at C(-v).
  returned: with O(action_ids), unless O(rate_budget=false)
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
  sample: {calls: 3, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
action_id:
  description: The id of the action.
  returned: with O(action_id)
  type: str
  sample: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
status:
  description: The action's status when the module finished.
  returned: with O(action_id)
  type: str
  sample: Cancelled
previous_status:
  description: The status the action had before the module did anything.
  returned: with O(action_id)
  type: str
  sample: Pending
machine_action:
  description: The MachineAction entity as the API returned it, unmodified.
  returned: with O(action_id)
  type: dict
  sample:
    id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
    type: LiveResponse
    status: Cancelled
    cancellationRequestor: secops-responder
    cancellationComment: "INC-4711: device is being reimaged"
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

from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService, check_guid, is_final, summary
from ansible_collections.secops.defender.plugins.module_utils._cancel import cancel_actions
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def run(client, params, check_mode):
    if params["action_ids"] is not None:
        return cancel_actions(client, params["action_ids"], params["comment"], check_mode=check_mode,
                              wait=params["wait"], wait_timeout=params["wait_timeout"],
                              poll_interval=params["poll_interval"],
                              fail_on_action_error=params["fail_on_action_error"])
    action_id = check_guid(params["action_id"])
    service = ActionService(client)
    before = service.get(action_id)
    if check_mode:
        result = summary(before)
        result.update(previous_status=before["status"], changed=not is_final(before))
        return result
    changed, action = service.cancel(before, params["comment"])
    result = summary(action)
    result.update(previous_status=before["status"], changed=changed)
    if changed and params["wait"]:
        action = service.wait(action, params["wait_timeout"], params["poll_interval"], result=result,
                              want="Cancelled")
        result.update(summary(action))
    return result


def main():
    argument_spec = dict(
        action_id=dict(type="str"),
        action_ids=dict(type="list", elements="str"),
        fail_on_action_error=dict(type="bool", default=True),
        comment=dict(type="str", default="Cancelled by Ansible (secops.defender)"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        poll_interval=dict(type="int", default=5),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, required_one_of=[("action_id", "action_ids")],
                            mutually_exclusive=[("action_id", "action_ids")])
    module.run(lambda m: run(m.client, m.params, m.check_mode))


if __name__ == "__main__":
    main()
