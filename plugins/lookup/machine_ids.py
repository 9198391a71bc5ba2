# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: machine_ids
short_description: The ids of the Defender for Endpoint devices that match some properties
version_added: 0.2.0
description:
  - Returns the machine ids of the devices chosen by the same properties as the C(secops.defender.machines)
    inventory plugin, ready for a module's C(machines) option.
  - Use C(query()) (or C(lookup(..., wantlist=true))) for a list; plain C(lookup()) joins the ids with commas,
    which a C(machines) option also takes.
  - Terms, when given, are raw OData C($filter) clauses joined with C(and) to the options.
  - One paged query for the properties, one call per tag. Same connection options, environment variables, token
    cache and rate budget as the modules.
  - The connection can be set once per play, in variables. Each option is taken from, in this order, the lookup's
    own keyword (C(tenant_id=...)), the C(defender_connection) dict variable (the one the shipped playbooks take,
    with keys such as C(api_url) and C(ca_path)), a variable C(defender_<option>) (such as C(defender_tenant_id),
    listed under each option), and then the environment variables. A lookup runs on the controller, so a secret in
    a variable (best kept in Ansible Vault) is never written into a module's payload.
author:
  - Secops Defender Contributors (@secops-collections)
extends_documentation_fragment:
  - secops.defender.auth.PLUGIN
options:
  _terms:
    description: Raw OData C($filter) clauses on the documented Machine properties.
    type: list
    elements: str
    required: false
  filter:
    description: A raw OData C($filter), as for the inventory plugin.
    type: str
  tags:
    description: Only devices with any of these tags.
    type: list
    elements: str
  tag_starts_with:
    description: Match O(tags) as prefixes.
    type: bool
    default: false
  os_platforms:
    description: Only these platforms, for example V(Windows11).
    type: list
    elements: str
  health_status:
    description: Only these health states, for example V(Active).
    type: list
    elements: str
  risk_scores:
    description: Only these risk scores.
    type: list
    elements: str
  onboarding_status:
    description: Only devices in this onboarding state.
    type: str
  last_seen_within:
    description: Only devices seen within this long, such as V(24h) or V(7d).
    type: str
"""

EXAMPLES = r"""
- name: Quarantine a file on every active finance Windows device
  secops.defender.defender_quarantine_file:
    machines: "{{ query('secops.defender.machine_ids', tags=['finance'], os_platforms=['Windows10', 'Windows11'],
                        health_status=['Active']) }}"
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f

- name: Ids of the high-risk devices, by a raw filter
  ansible.builtin.debug:
    msg: "{{ query('secops.defender.machine_ids', high_risk) }}"
  vars:
    high_risk: riskScore eq 'High'
"""

RETURN = r"""
_raw:
  description: The machine ids (40 hexadecimal characters, lower case), each once.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError
from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe
from ansible_collections.secops.defender.plugins.module_utils._connection import AUTH_ARGSPEC, client_for
from ansible_collections.secops.defender.plugins.module_utils._selection import SELECTION_OPTIONS, select_machines


class LookupModule(LookupBase):
    _from_vars = frozenset()   # the connection options a defender_<option> variable set, in this run

    def run(self, terms, variables=None, **kwargs):
        direct = dict(self._connection_var(variables), **kwargs)
        self.set_options(var_options=variables, direct=direct)
        # What a defender_<option> variable set (no keyword, no defender_connection key): templated when read.
        self._from_vars = set(n for n in AUTH_ARGSPEC if n not in direct and "defender_" + n in (variables or {}))
        options = dict((name, self.get_option(name)) for name in SELECTION_OPTIONS)
        clauses = [c for c in [options.get("filter")] + list(terms or []) if c]
        options["filter"] = " and ".join("(%s)" % c for c in clauses) if clauses else None
        try:
            machines = select_machines(client_for(self._connection_option), options)
        except DefenderError as exc:
            raise AnsibleError("secops.defender.machine_ids: %s" % exc)
        # select_machines keeps only ids of 40 hex; marked unsafe all the same, as everything from the API is.
        return make_unsafe([m["id"].lower() for m in machines])

    def _connection_var(self, variables):
        """The defender_connection dict variable, templated, with only connection options in it."""
        connection = (variables or {}).get("defender_connection")
        if not connection:
            return {}
        connection = self._templar.template(connection)
        if not isinstance(connection, Mapping):
            kind = "text" if isinstance(connection, str) else "a %s" % type(connection).__name__
            raise AnsibleError("secops.defender.machine_ids: defender_connection must be a dict of connection "
                               "options (api_url, tenant_id, ...), not %s." % kind)
        unknown = sorted(set(connection) - set(AUTH_ARGSPEC))
        if unknown:
            raise AnsibleError("secops.defender.machine_ids: defender_connection has %s, which %s no connection "
                               "option; the options are %s." % (", ".join(unknown), "is" if len(unknown) == 1
                                                                else "are", ", ".join(sorted(AUTH_ARGSPEC))))
        return dict((k, v) for k, v in connection.items() if v is not None)

    def _connection_option(self, name):
        """An option's value; one that came from a variable (defender_<option>) is templated first, as a play's
        variables are."""
        value = self.get_option(name)
        if name in self._from_vars and isinstance(value, str):
            value = self._templar.template(value)
        return value
