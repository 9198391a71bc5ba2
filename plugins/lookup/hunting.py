# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: hunting
short_description: The rows of a Defender for Endpoint advanced hunting query, or one column of them
version_added: 0.3.0
description:
  - Runs KQL queries (the terms) or a hunt shipped with the collection (O(hunt) with O(parameters)) through the
    advanced hunting API (C(POST /api/advancedqueries/run)) and returns their rows, each a dict of column to
    value, the rows of every query in order.
  - With O(column), returns that column's values instead, each once, in the order they first appear, leaving out
    empty ones; for example O(column=DeviceId) gives a list ready for any module's C(machines) option.
  - Use C(query()) (or C(lookup(..., wantlist=true))) for a list.
  - The hunts and their parameters are those of the C(secops.defender.defender_advanced_hunting) module's O(hunt)
    option - V(devices_with_file) (C(sha1), C(sha256)), V(processes_from_file) (C(sha1), C(sha256), C(file_name)),
    V(devices_contacted_ip) (C(ip)), V(devices_contacted_domain) (C(domain)), V(devices_contacted_url) (C(url)) and
    V(user_logons) (C(user), C(include_failed)), each with C(lookback_days) (1 to 30, default 7). Every value is
    checked for its type and enters the query as a KQL string literal.
  - The same connection options, environment variables, token cache and rate budget as the modules; the calls
    share the C(advancedqueries) class (45 a minute, 1,500 an hour) with them. A running-time quota 429 fails at
    once, saying when the quota refills.
  - Every row is the tenant's data and comes back marked unsafe, so no value is ever run as a template.
author:
  - Secops Defender Contributors (@secops-collections)
extends_documentation_fragment:
  - secops.defender.auth.PLUGIN
options:
  _terms:
    description: KQL queries, run in order. Give either queries or O(hunt).
    type: list
    elements: str
    required: false
  hunt:
    description: The name of a shipped hunt.
    type: str
    choices: [devices_contacted_domain, devices_contacted_ip, devices_contacted_url, devices_with_file,
              processes_from_file, user_logons]
  parameters:
    description: 'The parameters of O(hunt), for example V({ip: 198.51.100.23}).'
    type: dict
  column:
    description: Return only this column's values, each once, in order of first appearance, without empty values.
    type: str
"""

EXAMPLES = r"""
- name: Five devices as advanced hunting sees them
  ansible.builtin.debug:
    msg: "{{ query('secops.defender.hunting', 'DeviceInfo | take 5') }}"

- name: Look at what was done on every device that connected to the C2 IP
  secops.defender.defender_machine_action_info:
    machines: "{{ query('secops.defender.hunting', hunt='devices_contacted_ip', parameters={'ip': '198.51.100.23'},
                        column='DeviceId') }}"

- name: The devices where alice logged on, by a query of one's own
  ansible.builtin.debug:
    msg: >-
      {{ query('secops.defender.hunting', "DeviceLogonEvents | where AccountName =~ 'alice'", column='DeviceName') }}
"""

RETURN = r"""
_raw:
  description: The rows (dicts of column to value), or with O(column) that column's distinct values, marked unsafe.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.secops.defender.plugins.module_utils._connection import client_for
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError
from ansible_collections.secops.defender.plugins.module_utils._hunting import QUERY_TIMEOUT, run_query
from ansible_collections.secops.defender.plugins.module_utils._hunts import hunt_query
from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe


def column_values(rows, column):
    """The column's values, each once, in order of first appearance, without empty ones."""
    values, seen = [], set()
    for row in rows:
        value = row.get(column) if isinstance(row, dict) else None
        if value is None or value == "":
            continue
        key = repr(value)
        if key not in seen:
            seen.add(key)
            values.append(value)
    return values


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        hunt, column = self.get_option("hunt"), self.get_option("column")
        terms = [str(t) for t in terms or []]
        try:
            if hunt and terms:
                raise AnsibleError("secops.defender.hunting: give KQL queries or hunt=, not both.")
            if hunt:
                queries = [hunt_query(hunt, self.get_option("parameters"))]
            elif self.get_option("parameters"):
                raise AnsibleError("secops.defender.hunting: parameters= needs hunt=, the shipped hunt they are for.")
            else:
                queries = [t for t in terms if t.strip()]
            if not queries:
                raise AnsibleError("secops.defender.hunting: give a KQL query, such as 'DeviceInfo | take 5', or "
                                   "hunt=.")
            client = client_for(self.get_option)
            if self.get_option("timeout") in (None, ""):  # a query may run 200 s
                client.timeout = QUERY_TIMEOUT
            rows = []
            for text in queries:
                rows.extend(run_query(client, text)["Results"])
        except DefenderError as exc:
            raise AnsibleError("secops.defender.hunting: %s" % exc)
        if column:
            if rows and not any(isinstance(r, dict) and column in r for r in rows):
                raise AnsibleError("secops.defender.hunting: the rows have no column %r; they have %s." % (
                    column, ", ".join(sorted(rows[0])) if isinstance(rows[0], dict) else "none"))
            rows = column_values(rows, column)
        return make_unsafe(rows)
