#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_indicator
short_description: Keep Microsoft Defender for Endpoint indicators (custom IoCs) as desired state
version_added: 0.2.0
description:
  - Makes tenant-wide indicators present or absent. An indicator is one value (a file hash, a certificate
    thumbprint, an IP address, a domain or a URL) and what Defender does when it sees it (O(action)).
  - Idempotent. An indicator with the same value and type that already has every option given is reported with
    C(changed=false). One that differs is updated (the API's submit-or-update). O(state=absent) deletes it.
  - One indicator (O(value)) is written with one call. Many (O(indicators)) are read with one query (or one paged
    list for more than twenty values), and what must change is written through the import endpoint in batches of
    500. Deletions go one by one; the API has no batch delete.
  - Every option of every indicator is checked before anything is sent, so a bad item fails the task with nothing
    written.
  - Every call is paced through the tenant's rate budget (O(rate_budget)).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  value:
    description:
      - The indicator's value. Hashes are sent in lower case.
      - Exactly one of O(value) and O(indicators) is required.
    type: str
  type:
    description:
      - The indicator type. Left out, it is told from the value when only one type fits (64 hex is V(FileSha256),
        32 hex V(FileMd5), an IP address V(IpAddress), C(http(s\)://...) V(Url), a host name V(DomainName)).
      - 40 hexadecimal characters can be a V(FileSha1) or a V(CertificateThumbprint), so the type must be given.
    type: str
    choices: [FileSha1, FileSha256, FileMd5, CertificateThumbprint, IpAddress, DomainName, Url]
  action:
    description:
      - What Defender does on a match. Required for O(state=present).
      - V(Audit) needs O(generate_alert=true).
    type: str
    choices: [Alert, Warn, Block, Audit, BlockAndRemediate, AlertAndBlock, Allowed]
  title:
    description:
      - The alert title. Required for O(state=present).
    type: str
  description:
    description:
      - What the indicator is about. Required for O(state=present).
    type: str
  severity:
    description:
      - The severity of the alerts it raises.
    type: str
    choices: [Informational, Low, Medium, High]
  expiration:
    description:
      - When the indicator expires, an ISO 8601 time in UTC such as V(2026-12-31T00:00:00Z).
    type: str
  generate_alert:
    description:
      - Whether a match raises an alert.
    type: bool
  rbac_group_names:
    description:
      - The device groups the indicator applies to; all devices when left out.
    type: list
    elements: str
  recommended_actions:
    description:
      - What the analyst should do on an alert.
    type: str
  application:
    description:
      - The application the indicator is for (shown in the portal).
      - The API sets it only when it creates an indicator
        (L(Submit or Update Indicator API,https://learn.microsoft.com/en-us/defender-endpoint/api/post-ti-indicator)).
        On an existing indicator a different value is not a change; the task warns that the indicator keeps its own,
        and returns the option in RV(results[].kept).
    type: str
  state:
    description:
      - V(present) creates or updates; V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  indicators:
    description:
      - Many indicators in one task. Each item takes the same keys as the module (O(value) is required in
        each); a key an item leaves out is taken from the module's own option of that name.
      - Exactly one of O(value) and O(indicators) is required.
    type: list
    elements: dict
    suboptions:
      value:
        description: The value.
        type: str
        required: true
      type:
        description: The type, see O(type).
        type: str
        choices: [FileSha1, FileSha256, FileMd5, CertificateThumbprint, IpAddress, DomainName, Url]
      action:
        description: See O(action).
        type: str
        choices: [Alert, Warn, Block, Audit, BlockAndRemediate, AlertAndBlock, Allowed]
      title:
        description: See O(title).
        type: str
      description:
        description: See O(description).
        type: str
      severity:
        description: See O(severity).
        type: str
        choices: [Informational, Low, Medium, High]
      expiration:
        description: See O(expiration).
        type: str
      generate_alert:
        description: See O(generate_alert).
        type: bool
      rbac_group_names:
        description: See O(rbac_group_names).
        type: list
        elements: str
      recommended_actions:
        description: See O(recommended_actions).
        type: str
      application:
        description: See O(application).
        type: str
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Ti.ReadWrite.All) (or C(Ti.ReadWrite)).
  - CIDR ranges are refused (the API does not take them); give single addresses.
  - A tenant holds at most 15,000 active indicators.
  - Options that are left out are not compared and not changed on an existing indicator.
  - In check mode the module reads the indicators and reports what it would create, update or delete.
seealso:
  - name: Submit or update indicator API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/post-ti-indicator
  - name: Import indicators API
    description: The batch endpoint.
    link: https://learn.microsoft.com/defender-endpoint/api/import-ti-indicators
"""

EXAMPLES = r"""
- name: Block a file everywhere, by SHA-1 and SHA-256
  secops.defender.defender_indicator:
    indicators:
      - {value: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, type: FileSha1}
      - {value: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}
    action: BlockAndRemediate
    title: "INC-4711: malicious invoice attachment"
    description: Dropper seen on ws-fin-001
    severity: High
    generate_alert: true

- name: Block a domain until the end of the year
  secops.defender.defender_indicator:
    value: evil.example.com
    action: Block
    title: "INC-4711: C2 domain"
    description: Command and control
    expiration: "2026-12-31T00:00:00Z"

- name: Lift the block
  secops.defender.defender_indicator:
    value: evil.example.com
    state: absent
"""

RETURN = r"""
results:
  description: One row per indicator, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    value:
      description: The value, as sent.
      type: str
    type:
      description: The type, as given or told from the value.
      type: str
    state:
      description: The state asked for.
      type: str
    id:
      description: The indicator's id, when it exists.
      type: str
    outcome:
      description: V(created), V(updated), V(deleted), V(unchanged) or V(failed) (in check mode, what would be).
      type: str
    changes:
      description: For an update, the options that differed.
      type: list
      elements: str
    kept:
      description: Options that differ on an existing indicator but that the API sets only on creation
        (V(application)); the indicator keeps its value, and the task warns.
      type: list
      elements: str
      version_added: 0.3.0
    changed:
      description: Whether the indicator was (or would be) changed.
      type: bool
    failed:
      description: Whether this indicator failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    indicator:
      description: The indicator as the API keeps it, for O(state=present).
      type: dict
      returned: for O(state=present), unless it failed
    error:
      description: The API's error for a failed indicator.
      type: dict
      returned: when this indicator failed
  sample:
    - value: evil.example.com
      type: DomainName
      state: present
      id: "1021"
      outcome: created
      changes: []
      changed: true
      failed: false
      msg: ""
summary:
  description: How many indicators were created, updated, deleted, left unchanged or failed (in check mode, would be).
    Each indicator counts once.
  returned: always
  type: dict
  contains:
    created:
      description: The indicators created.
      type: int
    updated:
      description: The indicators updated.
      type: int
    deleted:
      description: The indicators deleted.
      type: int
    unchanged:
      description: The indicators that already were as asked.
      type: int
    failed:
      description: The indicators that failed, as in RV(failed_indicators).
      type: int
  sample: {created: 1, updated: 0, deleted: 0, unchanged: 1, failed: 0}
failed_indicators:
  description: The values that failed.
  returned: always
  type: list
  elements: str
  sample: []
id:
  description: The indicator's id.
  returned: with O(value), when it exists
  type: str
  sample: "1021"
outcome:
  description: What happened to the indicator (see RV(results)).
  returned: with O(value)
  type: str
  sample: created
indicator:
  description: The indicator as the API keeps it.
  returned: with O(value) and O(state=present)
  type: dict
  sample:
    id: "1021"
    indicatorValue: evil.example.com
    indicatorType: DomainName
    action: Block
    title: "INC-4711: C2 domain"
rate_budget:
  description: What this task saw of the tenant's rate budget, shared by every task on the controller (see
    O(rate_budget)). Shown at C(-v).
  returned: unless O(rate_budget=false)
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
  sample: {calls: 2, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
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

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._indicators import (
    ACTIONS,
    OPTION_KEYS,
    SEVERITIES,
    TYPES,
    apply,
    check,
    result,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def fields(required_value=False, with_defaults=True):
    return dict(
        value=dict(type="str", required=required_value),
        type=dict(type="str", choices=list(TYPES)),
        action=dict(type="str", choices=list(ACTIONS)),
        title=dict(type="str"),
        description=dict(type="str"),
        severity=dict(type="str", choices=list(SEVERITIES)),
        expiration=dict(type="str"),
        generate_alert=dict(type="bool"),
        rbac_group_names=dict(type="list", elements="str"),
        recommended_actions=dict(type="str"),
        application=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present" if with_defaults else None),
    )


def main():
    argument_spec = fields()
    argument_spec["indicators"] = dict(type="list", elements="dict",
                                       options=fields(required_value=True, with_defaults=False))
    module = DefenderModule(argument_spec, supports_check_mode=True, mutually_exclusive=[("value", "indicators")],
                            required_one_of=[("value", "indicators")])
    module.run(run)


def run(module):
    params = module.params
    single = not params.get("indicators")
    given = [params] if single else params["indicators"]
    items, seen = [], set()
    for entry in given:
        item = dict((k, entry.get(k) if entry.get(k) is not None else params.get(k)) for k in OPTION_KEYS)
        item["value"] = entry.get("value")
        checked = check(item)
        key = (checked["value"].lower(), checked["type"])
        if key in seen:
            raise DefenderInputError("%s (%s) is listed more than once." % key)
        seen.add(key)
        items.append(checked)
    rows = apply(module.client, items, module.check_mode)
    for warning in filter(None, (r.warning() for r in rows)):
        module.warn(warning)
    return result(rows, single, client=module.client)


if __name__ == "__main__":
    main()
