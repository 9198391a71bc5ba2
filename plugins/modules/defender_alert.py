#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_alert
short_description: Set the status, owner, classification and determination of alerts, and comment on them
version_added: 0.3.0
description:
  - Brings one Microsoft Defender for Endpoint alert (O(alert_id)) or many (O(alert_ids)) to a desired state, its
    O(status), O(assigned_to), O(classification) and O(determination), and a O(comment) on it.
  - The current alerts are read first (C(GET /api/alerts) with C($filter) on C(id), 20 ids a query). A field already
    at its value is not sent, and a comment the alert already carries (the same text) is not added again, so a
    second run changes nothing and reports C(changed=false).
  - Alerts that need the same new values are updated together with C(POST /api/alerts/batchUpdate), at most 500 ids
    a call (10 calls a minute and 500 an hour); an alert whose changes are its own gets one C(PATCH /api/alerts/{id}).
  - A classification and determination that do not belong together are refused before anything is sent. The pairs
    are those of Microsoft Learn's "Batch update alerts" page; V(Other) belongs to every classification.
  - A O(determination) without O(classification) is checked against each alert's own classification; an alert that
    has none, or whose classification does not take it, fails its row and is not written to.
  - Every call is paced through the tenant's rate budget, shared by all tasks on the controller (O(rate_budget)).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  alert_id:
    description:
      - The id of one alert, for example V(da637399794050273582_760707377).
      - Exactly one of O(alert_id) and O(alert_ids) is required.
    type: str
  alert_ids:
    description:
      - The ids of many alerts, in one task, for example the C(alert_id) of each row of a registered result. An id
        given twice is one alert.
    type: list
    elements: str
  status:
    description:
      - The alert's status.
    type: str
    choices: [New, InProgress, Resolved]
  assigned_to:
    description:
      - The alert's owner, usually a user principal name such as V(secop2@contoso.com). Compared exactly.
    type: str
  classification:
    description:
      - Whether the alert is a true threat.
    type: str
    choices: [TruePositive, InformationalExpectedActivity, FalsePositive]
  determination:
    description:
      - What the alert was. It must belong to the classification the alert will have; V(TruePositive) takes
        V(MultiStagedAttack), V(MaliciousUserActivity), V(CompromisedUser), V(Malware), V(Phishing),
        V(UnwantedSoftware) and V(Other); V(InformationalExpectedActivity) takes V(SecurityTesting),
        V(LineOfBusinessApplication), V(ConfirmedUserActivity) and V(Other); V(FalsePositive) takes V(Clean),
        V(InsufficientData) and V(Other).
      - A new classification that the alert's current determination does not belong to, given without a
        determination, leaves the alert without one (the API recalculates it).
    type: str
    choices: [Clean, CompromisedUser, ConfirmedUserActivity, InsufficientData, LineOfBusinessApplication,
              MaliciousUserActivity, Malware, MultiStagedAttack, Other, Phishing, SecurityTesting, UnwantedSoftware]
  comment:
    description:
      - A comment to add to the alert. It is added only when the alert has no comment with the same text.
    type: str
  fail_on_alert_error:
    description:
      - With O(alert_ids), whether the task fails at the end when any alert failed. The other alerts are updated
        either way, and every row is returned.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Alert.ReadWrite.All).
  - In check mode the module reads the alerts and reports what it would change; it sends no update.
  - With C(--diff), RV(diff) holds each alert's compared fields before and after.
  - For a batch, the alert in RV(results) is the one read, with the values sent applied (the batch endpoint answers
    with an empty body); for a PATCH it is the API's answer.
seealso:
  - module: secops.defender.defender_machine_tags
  - name: Update alert API
    description: Microsoft's documentation of the per-alert endpoint.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/update-alert
  - name: Batch update alerts API
    description: Microsoft's documentation of the batch endpoint, and of the classification and determination pairs.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts
"""

EXAMPLES = r"""
- name: Take the alert and start working on it
  secops.defender.defender_alert:
    alert_id: "{{ alert_id }}"
    status: InProgress
    assigned_to: secop2@contoso.com

- name: Close every alert of the incident as malware, with a note
  secops.defender.defender_alert:
    alert_ids: "{{ incident_alerts.results | map(attribute='alert_id') | list }}"
    status: Resolved
    classification: TruePositive
    determination: Malware
    comment: "INC-4711: contained and remediated"

- name: Mark a test alert as expected activity, without failing on alerts that are gone
  secops.defender.defender_alert:
    alert_ids: "{{ test_alert_ids }}"
    status: Resolved
    classification: InformationalExpectedActivity
    determination: SecurityTesting
    fail_on_alert_error: false
"""

RETURN = r"""
results:
  description:
    - One row per alert, in the order given; the same id given twice makes one row.
    - A failed row has its own C(error). The task's RV(error) is that one when one alert was given, or when every
      failed alert failed for the same coded reason (a spent rate budget, a missing permission).
  returned: always
  type: list
  elements: dict
  contains:
    alert_id:
      description: The alert's id, as it was given.
      type: str
    changes:
      description: The API fields that were (in check mode, would be) sent, among V(status), V(assignedTo),
        V(classification), V(determination) and V(comment); empty when the alert already was as asked.
      type: list
      elements: str
    before:
      description: The alert's compared fields before the task, C(status), C(assignedTo), C(classification),
        C(determination) and C(comments) (the comments' texts); empty when the alert was not found.
      type: dict
    after:
      description: The same fields after the task (in check mode, as they would be).
      type: dict
    outcome:
      description: V(updated), V(unchanged) or V(failed).
      type: str
    alert:
      description: The alert entity after the task (in check mode, as it would be); V(null) when it was not found.
      type: dict
    changed:
      description: Whether the alert was (or would be) changed.
      type: bool
    failed:
      description: Whether this alert failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    error:
      description: Why this alert failed, with the same keys as RV(error).
      returned: when this alert failed
      type: dict
  sample:
    - alert_id: da637399794050273582_760707377
      changes: [status, classification, determination, comment]
      before: {status: New, assignedTo: null, classification: null, determination: null, comments: []}
      after: {status: Resolved, assignedTo: null, classification: TruePositive, determination: Malware,
              comments: ["INC-4711: contained and remediated"]}
      outcome: updated
      alert: {id: da637399794050273582_760707377, status: Resolved}
      changed: true
      failed: false
      msg: Set status, classification, determination, comment.
failed_alerts:
  description: The alerts that failed, as they were given, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many alerts were updated, already were as asked, or failed. Each alert counts once.
  returned: always
  type: dict
  contains:
    alerts:
      description: How many rows RV(results) has.
      type: int
    updated:
      description: The alerts that were (in check mode, would be) updated.
      type: int
    unchanged:
      description: The alerts that already were as asked.
      type: int
    failed:
      description: The alerts that failed, as in RV(failed_alerts).
      type: int
  sample: {alerts: 2, updated: 1, unchanged: 1, failed: 0}
alert_id:
  description: The id of the alert.
  returned: for one alert (not with O(alert_ids))
  type: str
  sample: da637399794050273582_760707377
alert:
  description: The alert entity after the task (in check mode, as it would be).
  returned: for one alert (not with O(alert_ids))
  type: dict
  sample: {id: da637399794050273582_760707377, status: Resolved, classification: TruePositive,
           determination: Malware, assignedTo: secop2@contoso.com}
diff:
  description: The compared fields before and after; for O(alert_ids), each keyed by alert id.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: The alert's compared fields before the task (for many alerts, per alert id).
      type: dict
    after:
      description: The compared fields after the task, or as they would be in check mode.
      type: dict
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
  sample: {calls: 3, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
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

from ansible_collections.secops.defender.plugins.module_utils._alerts import (
    CLASSIFICATIONS,
    DETERMINATIONS,
    STATUSES,
    alerts_result,
    check_ids,
    update_alerts,
    wanted_values,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule

IDS = ("alert_id", "alert_ids")


def main():
    argument_spec = dict(
        alert_id=dict(type="str"),
        alert_ids=dict(type="list", elements="str"),
        status=dict(type="str", choices=list(STATUSES)),
        assigned_to=dict(type="str"),
        classification=dict(type="str", choices=list(CLASSIFICATIONS)),
        determination=dict(type="str", choices=list(DETERMINATIONS)),
        comment=dict(type="str"),
        fail_on_alert_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, required_one_of=[IDS], mutually_exclusive=[IDS])
    module.run(run)


def run(module):
    params = module.params
    ids = check_ids(params.get("alert_id"), params.get("alert_ids"))
    wanted, comment = wanted_values(params)
    single = params.get("alert_ids") is None
    rows = update_alerts(module.client, ids, wanted, comment, module.check_mode)
    return alerts_result(rows, single, params["fail_on_alert_error"], client=module.client, diff=module._diff)


if __name__ == "__main__":
    main()
