#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_indicator_info
short_description: List Microsoft Defender for Endpoint indicators (custom IoCs) by type, value, action or scope
version_added: 0.3.0
description:
  - Lists the tenant's indicators that match every option given, following pages, so that a pipeline can report
    drift between a repository and the tenant.
  - The options become one OData C($filter) (values in slices of twenty, one query each). The scope options
    (O(title_prefix), O(rbac_group_name), O(application), O(created_by), O(created_by_this_app)) are also matched by
    the module on every indicator returned, exactly as M(secops.defender.defender_indicator) matches its
    C(purge_scope), so the list is what a purge with that scope would consider.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  type:
    description:
      - Only indicators of these types.
    type: list
    elements: str
    choices: [FileSha1, FileSha256, FileMd5, CertificateThumbprint, IpAddress, DomainName, Url]
  value:
    description:
      - Only indicators with these values (hashes compared in lower case).
    type: list
    elements: str
  action:
    description:
      - Only indicators with these actions.
    type: list
    elements: str
    choices: [Alert, Warn, Block, Audit, BlockAndRemediate, AlertAndBlock, Allowed]
  severity:
    description:
      - Only indicators with these severities.
    type: list
    elements: str
    choices: [Informational, Low, Medium, High]
  generate_alert:
    description:
      - Only indicators that raise an alert (V(true)) or do not (V(false)).
    type: bool
  title_prefix:
    description:
      - Only indicators whose title starts with this (matched case-sensitively by the module).
    type: str
  rbac_group_name:
    description:
      - Only indicators whose device groups (C(rbacGroupNames)) include this one (matched by the module).
    type: str
  application:
    description:
      - Only indicators whose C(application) is this.
    type: str
  created_by:
    description:
      - Only indicators whose C(createdBy) is this (an app's client id, or a user).
    type: str
  created_by_this_app:
    description:
      - Only indicators created by this task's O(client_id).
    type: bool
    default: false
  filter:
    description:
      - An OData C($filter) of your own, joined to the others with C(and). Only the properties the API filters on
        are accepted (C(application), C(createdByDisplayName), C(expirationTime), C(generateAlert), C(title),
        C(rbacGroupNames), C(rbacGroupIds), C(indicatorValue), C(indicatorType), C(creationTimeDateTimeUtc),
        C(createdBy), C(action), C(severity)); another is refused before anything is sent.
    type: str
  limit:
    description:
      - At most this many indicators.
    type: int
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Ti.ReadWrite.All) (or C(Ti.ReadWrite), which shows an app only the indicators
    it created).
seealso:
  - module: secops.defender.defender_indicator
  - name: List indicators API
    description: Microsoft's documentation of the API this module calls, with the filterable properties.
    link: https://learn.microsoft.com/defender-endpoint/api/get-ti-indicators-collection
"""

EXAMPLES = r"""
- name: Every blocking indicator
  secops.defender.defender_indicator_info:
    action: [Block, BlockAndRemediate, AlertAndBlock]
  register: blocking

- name: "The indicators the repository owns (title prefix 'IaC: '), to compare with the repository"
  secops.defender.defender_indicator_info:
    title_prefix: "IaC: "
  register: owned

- name: Report drift, values in the tenant that the repository does not list
  ansible.builtin.debug:
    msg: "{{ owned.indicators | map(attribute='indicatorValue') | difference(['evil-c2.example.com']) }}"

- name: Hashes created by this app
  secops.defender.defender_indicator_info:
    type: [FileSha1, FileSha256]
    created_by_this_app: true
"""

RETURN = r"""
indicators:
  description: The Indicator entities found, as the API returned them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: "1021"
      indicatorValue: evil.example.com
      indicatorType: DomainName
      action: Block
      title: "IaC: C2 domain"
      createdBy: 11111111-1111-4111-8111-111111111111
      rbacGroupNames: []
count:
  description: How many indicators were found.
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
"""

from ansible_collections.secops.defender.plugins.module_utils._indicator_info import list_indicators
from ansible_collections.secops.defender.plugins.module_utils._indicators import ACTIONS, SEVERITIES, TYPES
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def run(module):
    params = module.params
    found = list_indicators(module.client, params, params.get("client_id") or params.get("managed_identity_client_id"))
    return {"changed": False, "indicators": found, "count": len(found)}


def main():
    argument_spec = dict(
        type=dict(type="list", elements="str", choices=list(TYPES)),
        value=dict(type="list", elements="str"),
        action=dict(type="list", elements="str", choices=list(ACTIONS)),
        severity=dict(type="list", elements="str", choices=list(SEVERITIES)),
        generate_alert=dict(type="bool"),
        title_prefix=dict(type="str"),
        rbac_group_name=dict(type="str"),
        application=dict(type="str"),
        created_by=dict(type="str"),
        created_by_this_app=dict(type="bool", default=False),
        filter=dict(type="str"),
        limit=dict(type="int"),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            mutually_exclusive=[("created_by", "created_by_this_app")])
    module.run(run)


if __name__ == "__main__":
    main()
