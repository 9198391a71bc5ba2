# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: an alert's status, owner, classification, determination and comment as desired state,
for one alert or many.

Alert updates are not machine actions: they change at once and leave no action behind. So this follows _tags.py:
read the current alerts in bulk (GET /api/alerts with $filter on id, 20 ids a query), work out per alert which fields
differ, check mode, then write only the difference: alerts that need the same new values share a
POST /api/alerts/batchUpdate (500 ids at most a call), an alert whose changes are its own gets one PATCH. A comment is
added only when the alert does not already carry the same text, so a rerun sends nothing.

Microsoft Learn: "Update alert" (https://learn.microsoft.com/en-us/defender-endpoint/api/update-alert) and "Batch
update alerts" (https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import any_of, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._results import ALERTS, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment

BATCH_MAX = 500          # alertIds per POST /api/alerts/batchUpdate
STATUSES = ("New", "InProgress", "Resolved")
# The classification -> determination pairs of Microsoft Learn's "Batch update alerts" page (the determination
# property, https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts), under the alert entity's
# enum names (https://learn.microsoft.com/en-us/defender-endpoint/api/alerts); the emulator enforces the same table.
PAIRS = {
    "TruePositive": ("MultiStagedAttack", "MaliciousUserActivity", "CompromisedUser", "Malware", "Phishing",
                     "UnwantedSoftware", "Other"),
    "InformationalExpectedActivity": ("SecurityTesting", "LineOfBusinessApplication", "ConfirmedUserActivity",
                                      "Other"),
    "FalsePositive": ("Clean", "InsufficientData", "Other"),
}
CLASSIFICATIONS = ("TruePositive", "InformationalExpectedActivity", "FalsePositive")
DETERMINATIONS = tuple(sorted(set(d for values in PAIRS.values() for d in values)))
# Task option -> the API's field (body parameters are case-sensitive), in the order they are compared.
FIELDS = (("status", "status"), ("assigned_to", "assignedTo"), ("classification", "classification"),
          ("determination", "determination"))
COMPARED = tuple(api for dummy, api in FIELDS)


def pair_message(classification, determination):
    return ("The pair classification %s / determination %s is not valid: %s takes %s."
            % (classification, determination, classification, ", ".join(PAIRS[classification])))


def check_ids(alert_id=None, alert_ids=None):
    """The alert ids of the task, in the order given, each once."""
    given = [alert_id] if alert_id is not None else list(alert_ids or [])
    if alert_ids is not None and not given:
        raise DefenderInputError("alert_ids is empty: give at least one alert id.")
    cleaned = []
    for value in given:
        text = (value or "").strip()
        if not text:
            raise DefenderInputError("alert_ids has an empty item." if alert_id is None
                                     else "alert_id must not be empty.")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def wanted_values(params):
    """The API fields the task sets ({field: value}) and its comment, checked before anything is sent."""
    wanted = dict((api, params[option]) for option, api in FIELDS if params.get(option) is not None)
    comment = params.get("comment")
    if comment is not None:
        comment = comment.strip()
        if not comment:
            raise DefenderInputError("comment must not be empty.")
    if not wanted and comment is None:
        raise DefenderInputError("Nothing to set: give at least one of status, assigned_to, classification, "
                                 "determination and comment.")
    if "assignedTo" in wanted and not wanted["assignedTo"].strip():
        raise DefenderInputError("assigned_to must not be empty.")
    if wanted.get("status") is not None and wanted["status"] not in STATUSES:
        raise DefenderInputError("status must be one of %s, not %s." % (", ".join(STATUSES), wanted["status"]))
    classification = wanted.get("classification")
    determination = wanted.get("determination")
    if classification is not None and classification not in PAIRS:
        raise DefenderInputError("classification must be one of %s, not %s."
                                 % (", ".join(CLASSIFICATIONS), classification))
    if determination is not None and determination not in DETERMINATIONS:
        raise DefenderInputError("determination must be one of %s, not %s."
                                 % (", ".join(DETERMINATIONS), determination))
    if classification is not None and determination is not None and determination not in PAIRS[classification]:
        raise DefenderInputError(pair_message(classification, determination), code="InvalidPair")
    return wanted, comment


def compared(alert):
    """The fields the task compares, as a dict (what before/after and the diff show)."""
    out = dict((key, alert.get(key)) for key in COMPARED)
    out["comments"] = [c.get("comment") for c in alert.get("comments") or [] if isinstance(c, dict)]
    return out


class AlertRow(ItemRow):
    """One alert's line: the fields that differ, the alert before and after."""

    def __init__(self, alert_id, check_mode=False):
        super(AlertRow, self).__init__()
        self.alert_id = alert_id
        self.check_mode = check_mode
        self.entity = None    # the alert as read
        self.after = None     # the alert as the task left it (in check mode, would leave it)
        self.body = {}        # what is sent for it
        self.sent = False

    @property
    def changes(self):
        return list(self.body)

    def outcome(self):
        if self.failed:
            return "failed"
        return "updated" if self.body else "unchanged"

    def fields(self):
        self.changed = bool(self.body) and not self.failed
        if self.changed and self.check_mode:
            self.msg = "Would set %s." % ", ".join(self.changes)
        elif self.changed and not self.msg:
            self.msg = "Set %s." % ", ".join(self.changes)
        before = compared(self.entity) if self.entity else {}
        after = compared(self.after) if self.after and not self.failed else before
        return {"alert_id": self.alert_id, "changes": [] if self.failed else self.changes, "before": before,
                "after": after, "outcome": self.outcome(), "alert": (self.after if not self.failed else self.entity)}


def read_alerts(client, rows):
    """Fill each row with its Alert entity, 20 ids a query; an id the API does not know fails its row."""
    for chunk in in_chunks(rows):
        try:
            found = client.paged("/api/alerts", params={"$filter": any_of("id", [r.alert_id for r in chunk])})
        except DefenderError as exc:
            for row in chunk:
                row.fail(exc)
            continue
        by_id = dict((str(a.get("id", "")).lower(), a) for a in found if isinstance(a, dict))
        for row in chunk:
            row.entity = by_id.get(row.alert_id.lower())
            if row.entity is None:
                row.fail(DefenderNotFoundError(
                    "No alert with id %s in this tenant." % row.alert_id, code="AlertNotFound",
                    hint="Check the id (as GET /api/alerts lists it), and that the app may see the alert's device "
                         "group."))


def plan(row, wanted, comment):
    """What this alert needs: row.body (only the fields that differ, and the comment when the alert lacks it) and
    row.after (the alert as it will be). A determination that does not belong to the classification the alert will
    have fails the row before anything is sent."""
    alert = row.entity
    body = dict((key, value) for key, value in wanted.items() if alert.get(key) != value)
    classification = wanted.get("classification", alert.get("classification"))
    determination = wanted.get("determination")
    if determination is not None and ("determination" in body or "classification" in body):
        if classification is None:
            row.fail(DefenderInputError(
                "Determination %s needs a classification: alert %s has none, and the task sets none. Set "
                "classification too (%s takes it)." % (determination, row.alert_id, " or ".join(
                    c for c in CLASSIFICATIONS if determination in PAIRS[c])), code="InvalidPair"))
            return
        if determination not in PAIRS.get(classification, ()):
            row.fail(DefenderInputError(pair_message(classification, determination), code="InvalidPair"))
            return
    texts = [c.get("comment") for c in alert.get("comments") or [] if isinstance(c, dict)]
    if comment is not None and comment not in texts:
        body["comment"] = comment
    row.body = body
    after = copy.deepcopy(alert)
    for key, value in body.items():
        if key != "comment":
            after[key] = value
    # "Properties left out may be recalculated": a new classification that the old determination does not belong to
    # leaves the alert without one.
    if "classification" in body and "determination" not in wanted and after.get("determination") and \
            after["determination"] not in PAIRS.get(after["classification"], ()):
        after["determination"] = None
    if "comment" in body:
        after.setdefault("comments", []).append({"comment": comment, "createdBy": None, "createdTime": None})
    row.after = after


def write(client, rows):
    """Alerts that need the same body share batchUpdate calls of at most 500 ids; any other gets one PATCH."""
    groups = {}
    for row in rows:
        if not row.failed and row.body:
            key = tuple(sorted(row.body.items()))
            groups.setdefault(key, []).append(row)
    for key, members in groups.items():
        body = dict(key)
        if len(members) == 1:
            row = members[0]
            try:
                answer = client.patch("/api/alerts/%s" % quote_segment(row.entity["id"]), body)
            except DefenderError as exc:
                row.fail(exc)
                continue
            if isinstance(answer, dict) and answer.get("id"):
                row.after = answer
            continue
        for start in range(0, len(members), BATCH_MAX):
            batch = members[start:start + BATCH_MAX]
            try:
                client.post("/api/alerts/batchUpdate", dict(body, alertIds=[r.entity["id"] for r in batch]),
                            idempotent="comment" not in body)
            except DefenderError as exc:
                for row in batch:
                    row.fail(exc)


def update_alerts(client, alert_ids, wanted, comment, check_mode=False):
    """Bring every alert to the wanted values (and comment). Returns the AlertRows, in the order given."""
    rows = [AlertRow(alert_id, check_mode) for alert_id in alert_ids]
    read_alerts(client, rows)
    for row in rows:
        if not row.failed:
            plan(row, wanted, comment)
    if not check_mode:
        write(client, rows)
    return rows


def alerts_result(rows, single, fail_on_alert_error=True, client=None, diff=False):
    """The module result (_results.finish), or DefenderActionError carrying it."""
    results = [r.as_dict() for r in rows]
    updated = len([r for r in results if r["outcome"] == "updated"])
    failed = len([r for r in results if r["outcome"] == "failed"])
    summary = {"alerts": len(results), "updated": updated, "unchanged": len(results) - updated - failed,
               "failed": failed}
    shown = None
    if diff and single:
        shown = {"before": results[0]["before"], "after": results[0]["after"]}
    elif diff:
        shown = {"before": dict((r["alert_id"], r["before"]) for r in results),
                 "after": dict((r["alert_id"], r["after"]) for r in results)}
    try:
        result = finish(results, ALERTS, summary, single=single, top_keys=("alert_id", "alert"),
                        fail_on_error=fail_on_alert_error, client=client)
    except DefenderActionError as exc:
        if shown is not None:
            exc.result["diff"] = shown
        raise
    if shown is not None:
        result["diff"] = shown
    return result
