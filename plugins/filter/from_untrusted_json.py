# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: from_untrusted_json
short_description: Read JSON text written by someone else as data that is never templated
version_added: 0.3.0
description:
  - Decodes JSON text, such as the C(alert_json) of a C(secops.defender.alerts) event, and marks every string in it
    unsafe, so that the alert's title, description or evidence file names are never run as Jinja, however they are
    used afterwards (kept with C(set_fact), passed to a role, put in a comment).
  - ansible-core 2.19 and later already treat what a filter returns as untrusted; on 2.16 to 2.18 a string from
    C(from_json) that is stored with C(set_fact) and read again would be templated. This filter gives the same
    guarantee on every supported release.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  _input:
    description: JSON text.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The alert behind an event, as data
  ansible.builtin.set_fact:
    alert: "{{ ansible_eda.event.alert_json | secops.defender.from_untrusted_json }}"

- name: Its title in a comment; the title is shown as written, never run
  secops.defender.defender_isolation:
    machine_id: "{{ ansible_eda.event.machine_id }}"
    comment: "{{ 'Isolated for alert %s: %s' | format(ansible_eda.event.alert_id, alert.title) }}"
"""

RETURN = r"""
_value:
  description: The decoded value, every string in it marked unsafe.
  type: raw
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe


def from_untrusted_json(text):
    if not isinstance(text, str):
        raise AnsibleFilterError("from_untrusted_json expects JSON text, not %s" % type(text).__name__)
    try:
        # str(): on 2.16 to 2.18 the input may be an unsafe string; json needs a plain one.
        return make_unsafe(json.loads(str(text)))
    except ValueError as exc:
        raise AnsibleFilterError("from_untrusted_json: the text is not JSON: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"from_untrusted_json": from_untrusted_json}
