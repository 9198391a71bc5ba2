# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: scope_lines
short_description: One readable line per device of a scope
version_added: 0.3.0
description:
  - Prints what P(secops.defender.scope_devices#filter) returned, one line per device - its name (or its id when no
    route gave a name), its id, and every route and entity that found it - or one line saying that no device was
    found.
  - Every line comes back marked unsafe (device names are an attacker's text).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description: The rows P(secops.defender.scope_devices#filter) returned.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: One line per device found
  ansible.builtin.debug:
    msg: "{{ {'files API': by_files, 'hunting': by_hunting} | secops.defender.scope_devices
             | secops.defender.scope_lines }}"
"""

RETURN = r"""
_value:
  description: One line per device, in the order found.
  type: list
  elements: str
  sample:
    - "ws-fin-001.corp.example.com (1e5bc9d7e413ddd7902c2932e418702b84d0cc07): found by files API
      8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, hunting devices_with_file"
"""

from ansible_collections.secops.defender.plugins.plugin_utils._scope import scope_lines


class FilterModule(object):
    def filters(self):
        return {"scope_lines": scope_lines}
