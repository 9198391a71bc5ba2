# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_summary_lines
short_description: Aligned text lines, one per device and step, from fleet module results
version_added: 0.3.0
description:
  - Prints what P(secops.defender.fleet_summary#filter) makes, for C(ansible.builtin.debug) or a text file.
  - A header, then one line per device and step (the steps of one device together) with the device (its name, or
    its id when the name is not known), the step when there are several, the status, the action and the whole
    reason, never cut short; under a live response row the evidence folder (unless the device failed and nothing
    came home) and one line per file brought home (SHA-256, name, size); and last, the counts (see P(secops.defender.fleet_summary_counts#filter)).
  - The columns are aligned; a name longer than 48 characters pushes its line out rather than being cut.
  - Control characters (a newline in a device name) are shown escaped (V(\x0a)), so that no text from the API can
    forge or hide a line. The rows themselves keep the data as it is.
  - Every line is marked unsafe, so nothing in it is ever run as a template.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description: What P(secops.defender.fleet_summary#filter) takes, or the rows it made (a row made with
      C(by=device) is printed as its steps).
    type: raw
    required: true
  failed_only:
    description: Only the rows that are not ok (without their evidence lines).
    type: bool
    default: false
  totals:
    description: End with the counts line.
    type: bool
    default: true
  header:
    description: Begin with the column names.
    type: bool
    default: true
seealso:
  - plugin: secops.defender.fleet_summary
    plugin_type: filter
  - plugin: secops.defender.fleet_summary_counts
    plugin_type: filter
"""

EXAMPLES = r"""
- name: One line per device
  ansible.builtin.debug:
    msg: "{{ quarantine | secops.defender.fleet_summary_lines }}"
# DEVICE                         STATUS        ACTION                                REASON
# ws-fin-001.corp.example.com    Succeeded     7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
# ws-fin-002.corp.example.com    Succeeded     5d1e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c03  An equal action is already Succeeded; nothing was submitted.
# lt-sales-007.corp.example.com  Pending       0f3e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c02  Action 0f3e... is still Pending after wait_timeout=900s. ...
# 3 device(s): 2 ok, 1 failed; 1 submitted, 1 already done, 1 failed

- name: Isolation and app restriction, device by device
  ansible.builtin.debug:
    msg: "{{ {'isolation': isolation, 'restriction': restriction} | secops.defender.fleet_summary_lines }}"

- name: Keep a text summary beside the evidence
  ansible.builtin.copy:
    dest: "{{ evidence_dir }}/summary.txt"
    content: "{{ (triage | secops.defender.fleet_summary_lines) | join('\n') }}\n"
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The lines, without line ends, every one marked unsafe.
  type: list
  elements: str
"""

from ansible_collections.secops.defender.plugins.plugin_utils._fleet_summary import fleet_summary_lines


class FilterModule(object):
    def filters(self):
        return {"fleet_summary_lines": fleet_summary_lines}
