# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: scope_devices
short_description: The union of the devices that pivots and hunts found, with how each was found
version_added: 0.3.0
description:
  - Takes what the pivot modules (M(secops.defender.defender_file_info), M(secops.defender.defender_domain_info),
    M(secops.defender.defender_ip_info), M(secops.defender.defender_user_info)) and
    M(secops.defender.defender_advanced_hunting) registered, and returns every device they found, once, in the order
    first found, with the routes that found it.
  - A pivot's devices come from its C(machines) (each with the entities that found it); a hunt's from the
    C(DeviceId) and C(DeviceName) columns of its rows (in any case). A value that is not a device id (40 hexadecimal
    characters) is left out.
  - A skipped task gives nothing. Every value comes back marked unsafe (device names are an attacker's text).
  - C(map(attribute='machine_id')) of the result is ready for any action module's C(machines), and
    P(secops.defender.scope_lines#filter) prints it.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description:
      - A dictionary of route name (any label, such as V(files API) or V(hunting)) to a registered result, or a list
        of registered results (named V(pivot 0), V(pivot 1)...).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Devices that saw the file, by the files API
  secops.defender.defender_file_info:
    files: [8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f]
    include: [machines]
  register: by_files

- name: The same, by advanced hunting
  secops.defender.defender_advanced_hunting:
    hunt: devices_with_file
    hunt_parameters: {sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, lookback_days: 30}
  register: by_hunting

- name: Quarantine the file on every device either found
  secops.defender.defender_quarantine_file:
    machines: "{{ {'files API': by_files, 'hunting': by_hunting} | secops.defender.scope_devices
                  | map(attribute='machine_id') | list }}"
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    comment: "INC-21: scoped by file and hunting"
"""

RETURN = r"""
_value:
  description: One row per device.
  type: list
  elements: dict
  contains:
    machine_id:
      description: The device's id, in lower case.
      type: str
    machine_name:
      description: Its computer DNS name, when a route gave one.
      type: str
    found_by:
      description: How it was found, each C(<route> <entity or hunt>), in the order found.
      type: list
      elements: str
  sample:
    - machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      found_by: [files API 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, hunting devices_with_file]
"""

from ansible_collections.secops.defender.plugins.plugin_utils._scope import scope_devices


class FilterModule(object):
    def filters(self):
        return {"scope_devices": scope_devices}
