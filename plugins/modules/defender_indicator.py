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
    500. What must go is deleted with C(BatchDelete) in batches of 500; a task that deletes a single indicator uses
    one C(DELETE) (it does not spend BatchDelete's 30 calls a minute).
  - With O(purge=true), O(indicators) is the exclusive list of a scope (O(purge_scope)); every indicator in that scope
    that the list does not name is deleted. Indicators outside the scope are never touched. A purge without a scope
    is refused before anything is sent.
  - With C(--diff), returns per indicator the options that change (a created or deleted indicator whole); in check
    mode, what would change.
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
      - When the indicator expires, an ISO 8601 time in UTC such as V(2027-12-31T00:00:00Z); any other form is
        refused before anything is sent.
      - A time that has already passed is written as given, with a warning, since the indicator is expired from
        the start. It is never refused, because in a repository of desired state the date passes on its own. A
        later run that changes nothing says nothing.
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
  purge:
    description:
      - Whether O(indicators) is the whole desired set of O(purge_scope). V(true) deletes every indicator in the
        scope that O(indicators) does not name (listed as RV(results[].purged) rows); an empty O(indicators) empties
        the scope.
      - Needs O(indicators) and O(purge_scope). Without a scope the task is refused before any request.
      - Check mode and C(--diff) list every indicator a purge would delete before it is deleted.
    type: bool
    default: false
    version_added: 0.3.0
  purge_scope:
    description:
      - Which indicators this list owns, so that O(purge=true) can never delete what it does not. Criteria given
        together must all match. The scope is matched on every indicator the API lists, by the module itself.
      - Use a title prefix that only your repository writes, or your own device group, application name or app.
    type: dict
    version_added: 0.3.0
    suboptions:
      title_prefix:
        description: Indicators whose title starts with this (case-sensitive), for example V(IaC:).
        type: str
      rbac_group_name:
        description: Indicators whose C(rbacGroupNames) contains this device group.
        type: str
      application:
        description: Indicators whose C(application) is this.
        type: str
      created_by_this_app:
        description: Indicators whose C(createdBy) is this task's O(client_id), that is created by this app.
        type: bool
        default: false
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Ti.ReadWrite.All) (or C(Ti.ReadWrite)).
  - CIDR ranges are refused (the API does not take them); give single addresses.
  - A tenant holds at most 15,000 active indicators.
  - Options that are left out are not compared and not changed on an existing indicator.
  - In check mode the module reads the indicators and reports what it would create, update or delete.
  - A purge reads every indicator the app can see (one paged list, 10,000 a page). With C(Ti.ReadWrite) rather than
    C(Ti.ReadWrite.All) the API shows an app only its own indicators, so a purge cannot reach others.
  - C(BatchDelete) does not say which id it could not delete. On its 404 (an id not found) the module reads what is
    left and sends that once more; on its 403 (an indicator of a device group the app may not see) it deletes the
    batch one C(DELETE) each, so the others still go and the refused one fails its own row.
seealso:
  - name: Submit or update indicator API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/post-ti-indicator
  - name: Import indicators API
    description: The batch endpoint.
    link: https://learn.microsoft.com/defender-endpoint/api/import-ti-indicators
  - name: Batch delete indicators API
    description: The batch delete endpoint.
    link: https://learn.microsoft.com/defender-endpoint/api/batch-delete-ti-indicators
  - module: secops.defender.defender_indicator_info
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

- name: Block a domain until the end of 2027
  secops.defender.defender_indicator:
    value: evil.example.com
    action: Block
    title: "INC-4711: C2 domain"
    description: Command and control
    expiration: "2027-12-31T00:00:00Z"

- name: Lift the block
  secops.defender.defender_indicator:
    value: evil.example.com
    state: absent

- name: "Indicators as code: exactly these, among the indicators titled 'IaC: ' (check mode and --diff show deletions first)"
  secops.defender.defender_indicator:
    indicators:
      - {value: evil-c2.example.com}
      - {value: 203.0.113.50, action: Warn}
    action: Block
    title: "IaC: blocked by the security repository"
    description: Managed in git; changes go through review
    purge: true
    purge_scope:
      title_prefix: "IaC: "
  diff: true
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
    purged:
      description: Whether this row is an indicator the list does not name, deleted (or to be) by O(purge).
      type: bool
      version_added: 0.3.0
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
    purged:
      description: Of RV(summary.deleted), those deleted by O(purge).
      type: int
      version_added: 0.3.0
  sample: {created: 1, updated: 0, deleted: 0, unchanged: 1, failed: 0, purged: 0}
diff:
  description:
    - With C(--diff), the indicators that change, keyed by C(value (type)). C(before) has an updated indicator's
      changed options as they were and a deleted one whole; C(after) has the changed options as they are made and a
      created one whole. In check mode, what would be.
  returned: in diff mode
  type: dict
  version_added: 0.3.0
  contains:
    before:
      description: The indicators' changed options before the task, by indicator.
      type: dict
    after:
      description: The indicators' changed options after the task, by indicator.
      type: dict
  sample:
    before: {"evil.example.com (DomainName)": {action: Alert}}
    after: {"evil.example.com (DomainName)": {action: Block}, "203.0.113.50 (IpAddress)": {value: 203.0.113.50,
            type: IpAddress, action: Warn, title: "IaC: blocked", description: Managed in git}}
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
from ansible_collections.secops.defender.plugins.module_utils._indicator_scope import purge_scope
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
    argument_spec["purge"] = dict(type="bool", default=False)
    argument_spec["purge_scope"] = dict(type="dict", options=dict(
        title_prefix=dict(type="str"), rbac_group_name=dict(type="str"), application=dict(type="str"),
        created_by_this_app=dict(type="bool", default=False)))
    module = DefenderModule(argument_spec, supports_check_mode=True, mutually_exclusive=[("value", "indicators")],
                            required_one_of=[("value", "indicators")])
    module.run(run)


def run(module):
    params = module.params
    single = params.get("value") is not None
    scope = purge_scope(params["purge"], params.get("purge_scope"),
                        params.get("client_id") or params.get("managed_identity_client_id"), many=not single)
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
    rows = apply(module.client, items, module.check_mode, scope=scope)
    for warning in filter(None, (r.warning() for r in rows)):
        module.warn(warning)
    return result(rows, single, client=module.client, with_diff=module._diff)


if __name__ == "__main__":
    main()
