# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_summary
short_description: One readable row per device and step from fleet module results
version_added: 0.3.0
description:
  - Turns what a fleet task registered (a module result with one row per device in C(results), such as
    M(secops.defender.defender_quarantine_file), M(secops.defender.defender_isolation) or
    M(secops.defender.defender_live_response) with C(machines)) into rows a responder can read and a playbook can
    test, one per device and step.
  - Each row says which device (its name first), whether it is V(ok), the status, the action, and the whole reason,
    never shortened, including why nothing was submitted (an equal action already there, check mode, an unknown
    name).
  - Several steps (contain, then restrict; quarantine, then collect) are given as a list of C({step, result}) or a
    dictionary of step to result; C(by=device) puts them side by side, one row per device.
  - Also reads a M(secops.defender.defender_machine_action_info) result (one row per action found, one per device
    that could not be looked up or has none), a M(secops.defender.defender_cancel_action) result with C(action_ids)
    (one row per action), and rows this filter made before (a role's summary), taken as they are.
  - A skipped task gives no rows. A task that failed as a whole, without C(results), gives one row that is not V(ok).
  - Every value comes back marked unsafe, so a device name, a script's output or an API message is shown as written
    and never run as a template, on every supported ansible-core, however it is used afterwards.
  - P(secops.defender.fleet_summary_lines#filter) prints the rows as aligned text, and
    P(secops.defender.fleet_summary_counts#filter) counts them.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description:
      - A registered fleet module result; or a list of C({step, result}) dictionaries, each C(result) being a
        module result or a list of rows made by this filter, with optional C(words) (see O(words)) and C(missing)
        (what a C(by=device) row shows for a device this step has no row for); or a dictionary of step name to
        result, in order (a step may not be called C(results), C(actions), C(summary), C(changed), C(failed),
        C(skipped) or C(msg), which mark a module result); or a list of rows made by this filter.
    type: raw
    required: true
  by:
    description:
      - V(step) gives one row per device and step, the steps of one device together, in the order the devices first
        appear.
      - V(device) gives one row per device (as given; a device listed twice is two rows) with each step's value under
        the step's name. The step names must not be keys of the row (C(machine), C(ok), C(reason) ...).
    type: str
    choices: [step, device]
    default: step
  machine:
    description:
      - What C(machine) holds. V(name) is the device's computer DNS name, its id when the name is not known, and the
        value as given when neither is. V(given) is the device as it was given to the module, as the modules' own
        rows have it, to match rows with a list of devices.
      - Both are always in the row as well (C(machine_name), C(machine_id), C(given)).
    type: str
    choices: [name, given]
    default: name
  nest:
    description:
      - With O(by=device), put each step's whole row under the step's name instead of its C(status). The rows are
        then not repeated under C(steps).
    type: bool
    default: false
  words:
    description:
      - "Words to show as C(status) for an outcome, for every step that does not bring its own, for example
        C({would_submit: would isolate, existing: isolated (already), done: isolated})."
      - The keys are the outcomes (see RV(_value[].outcome)).
    type: dict
    default: {}
seealso:
  - plugin: secops.defender.fleet_summary_lines
    plugin_type: filter
  - plugin: secops.defender.fleet_summary_counts
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Quarantine a file on every device
  secops.defender.defender_quarantine_file:
    machines: "{{ affected_machines }}"
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    fail_on_device_error: false
  register: quarantine

- name: One row per device
  ansible.builtin.set_fact:
    quarantine_rows: "{{ quarantine | secops.defender.fleet_summary }}"
    # [{machine: ws-fin-001.corp.example.com, ok: true, status: Succeeded, action_id: 7c4f..., reason: "", ...},
    #  {machine: lt-sales-007.corp.example.com, ok: false, status: TimeOut, reason: "Action 0f3e... is still
    #   Pending after wait_timeout=900s. It goes on in Defender. ...", ...}]

- name: The devices to look at again, as they were listed
  ansible.builtin.debug:
    msg: "{{ quarantine | secops.defender.fleet_summary(machine='given') | rejectattr('ok') | map(attribute='machine') }}"

- name: Isolation and app restriction side by side, in the words of the job
  ansible.builtin.set_fact:
    containment: >-
      {{ [{'step': 'isolation', 'result': isolation,
           'words': {'would_submit': 'would isolate', 'existing': 'isolated (already)', 'done': 'isolated'}},
          {'step': 'restriction', 'result': restriction}]
         | secops.defender.fleet_summary(by='device') }}
    # [{machine: ws-fin-001..., isolation: isolated, restriction: Succeeded, ok: true, reason: "", steps: {...}}]
"""

RETURN = r"""
_value:
  description:
    - The rows, every value marked unsafe. With O(by=step), one per device and step.
    - With O(by=device), one per device, with C(machine), C(given), C(machine_id), C(machine_name), C(ok) (every
      step is), C(changed) (any step is), C(reason) and C(message) (the reasons of the steps that are not ok, each
      after its step's name), each step's C(status) (or with O(nest=true) its row) under the step's name, V(-) (or
      V(null)) when the step has no row for the device, and C(steps), the step rows by step name.
  type: list
  elements: dict
  contains:
    machine:
      description: The device, as O(machine) says.
      type: str
    given:
      description: The device as it was given to the module (for a cancel, taken from a look-up step of the same
        device when there is one).
      type: str
    machine_id:
      description: The device's id, when known.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    step:
      description: The step's name; V(null) for a result given alone.
      type: str
    ok:
      description: Whether the device did not fail in this step.
      type: bool
    changed:
      description: Whether the step changed (or in check mode would change) something on the device.
      type: bool
    outcome:
      description:
        - V(done) a new action, final; V(submitted) a new action still running; V(existing) an equal or earlier
          action found and reused, nothing submitted; V(would_submit) check mode; V(not_needed) nothing to do (the
          device is already in that state, or has no action that matches); V(not_submitted) the device failed before
          an action existed (unknown name, refused); V(failed) the device failed with an action (timed out, failed).
      type: str
    status:
      description:
        - The action's status when the task ended, or when the device has none V(WouldSubmit) (V(WouldCancel)),
          V(NotSubmitted), V(NotNeeded), V(LookupFailed) or V(NoneFound); or the step's word for the outcome (see
          O(words)).
      type: str
    action_status:
      description: The action's own status, V(null) when there is no action.
      type: str
    action_id:
      description: The action, or V(null).
      type: str
    reason:
      description: What happened, whole, for a failure what to do next; empty when there is nothing to say.
      type: str
    message:
      description: The same as C(reason), under the name the roles' summaries use.
      type: str
    directory:
      description: For live response, the folder the device's evidence was written to; empty for other steps or when
        nothing was written.
      type: str
    files:
      description: For live response, the files brought home, each with C(name) (the local file name), C(path),
        C(remote_path), C(sha256) and C(size); empty for other steps.
      type: list
      elements: dict
  sample:
    - machine: ws-fin-001.corp.example.com
      given: ws-fin-001.corp.example.com
      machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      step: null
      ok: true
      changed: false
      outcome: existing
      status: Succeeded
      action_status: Succeeded
      action_id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
      reason: An equal action is already Succeeded; nothing was submitted.
      message: An equal action is already Succeeded; nothing was submitted.
"""

from ansible_collections.secops.defender.plugins.plugin_utils._fleet_summary import fleet_summary


class FilterModule(object):
    def filters(self):
        return {"fleet_summary": fleet_summary}
