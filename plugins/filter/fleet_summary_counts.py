# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_summary_counts
short_description: How many devices of fleet module results are ok or failed, and why
version_added: 0.3.0
description:
  - Counts what P(secops.defender.fleet_summary#filter) makes, for a task's C(when) and its failure message.
  - A device counts once however many steps it has (a device listed twice, by id and by name, counts twice); it
    failed when any of its rows is not ok.
  - Every text in the result is marked unsafe.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description: What P(secops.defender.fleet_summary#filter) takes, or the rows it made.
    type: raw
    required: true
seealso:
  - plugin: secops.defender.fleet_summary
    plugin_type: filter
  - plugin: secops.defender.fleet_summary_lines
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Fail at the end if any device failed, saying which and why
  ansible.builtin.fail:
    msg: >-
      Quarantine failed on {{ counts.failed }} of {{ counts.devices }} device(s):
      {{ counts.failed_machines | join(', ') }}. {{ counts.failures | join(' | ') }}
  vars:
    counts: "{{ quarantine | secops.defender.fleet_summary_counts }}"
  when: counts.failed > 0
"""

RETURN = r"""
_value:
  description: The counts.
  type: dict
  contains:
    devices:
      description: How many devices.
      type: int
    ok:
      description: How many devices are ok in every step.
      type: int
    failed:
      description: How many devices failed in a step.
      type: int
    failed_machines:
      description: The devices that failed, each as its name with its id in brackets when both are known.
      type: list
      elements: str
    failures:
      description:
        - One text per row that is not ok, the device first, then the whole reason, then in brackets the step, the
          status and the action.
      type: list
      elements: str
    rows:
      description: How many rows (one per device and step).
      type: int
    submitted:
      description: Rows with a new action (or cancel).
      type: int
    already_done:
      description: Rows with an equal action found, or nothing to do.
      type: int
    would_submit:
      description: Rows that would get a new action (check mode).
      type: int
    failed_rows:
      description: Rows that are not ok.
      type: int
    steps:
      description: The same counts for each step, in order, each with C(step), C(rows), C(submitted),
        C(already_done), C(would_submit) and C(failed) (rows).
      type: list
      elements: dict
  sample:
    devices: 3
    ok: 2
    failed: 1
    failed_machines: [lt-sales-007.corp.example.com (4e5bc9d7e413ddd7902c2932e418702b84d0cc07)]
    failures:
      - "lt-sales-007.corp.example.com (4e5bc9d7e413ddd7902c2932e418702b84d0cc07): Action
        0f3e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c02 on lt-sales-007.corp.example.com is still Pending after
        wait_timeout=900s. (Pending, action 0f3e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c02)"
    rows: 3
    submitted: 1
    already_done: 1
    would_submit: 0
    failed_rows: 1
    steps:
      - {step: null, rows: 3, submitted: 1, already_done: 1, would_submit: 0, failed: 1}
"""

from ansible_collections.secops.defender.plugins.plugin_utils._fleet_summary import fleet_summary_counts


class FilterModule(object):
    def filters(self):
        return {"fleet_summary_counts": fleet_summary_counts}
