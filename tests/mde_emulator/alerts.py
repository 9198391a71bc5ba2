"""Alerts (/api/alerts): seeded or created through the control API, listed with $filter on the documented
properties and evidence only with $expand=evidence, and updated one at a time or in batches.

Order is not guaranteed, as documented: the list comes out shuffled by id hash, so a client must filter on
lastUpdateTime and keep its own checkpoint.

Updates follow Microsoft Learn, "Update alert" (https://learn.microsoft.com/en-us/defender-endpoint/api/update-alert)
and "Batch update alerts" (https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts); the values
are the alert entity's (https://learn.microsoft.com/en-us/defender-endpoint/api/alerts). Body parameters are
case-sensitive and must be spelled as in the examples ("Handling REST API errors",
https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors): anything else is 400 InvalidRequestBody.
"""

import hashlib
import uuid

from .clock import iso
from .errors import ApiError

READ = ("Alert.Read.All", "Alert.ReadWrite.All")
# "Update alert" spells it Alerts.ReadWrite.All, a permission that does not exist; "Batch update alerts" and every
# other alert page name Alert.ReadWrite.All.
WRITE = ("Alert.ReadWrite.All",)
SEVERITIES = ("UnSpecified", "Informational", "Low", "Medium", "High")
STATUSES = ("Unknown", "New", "InProgress", "Resolved")
UPDATE_STATUSES = ("New", "InProgress", "Resolved")     # what an update may set
# Learn, "List alerts API" (03/2025): also assignedTo (the page spells it "asssignedTo"), detectionSource and
# lastEventTime.
FILTERABLE = ("alertCreationTime", "lastUpdateTime", "incidentId", "InvestigationId", "id", "status", "severity",
              "category", "assignedTo", "detectionSource", "lastEventTime")
# Classification -> the determinations that belong to it (the alert entity page's enum names).
PAIRS = {
    "TruePositive": ("MultiStagedAttack", "MaliciousUserActivity", "CompromisedUser", "Malware", "Phishing",
                     "UnwantedSoftware", "Other"),
    "InformationalExpectedActivity": ("SecurityTesting", "LineOfBusinessApplication", "ConfirmedUserActivity",
                                      "Other"),
    "FalsePositive": ("Clean", "InsufficientData", "Other"),
}
CLASSIFICATIONS = tuple(PAIRS)
# "Update alert" names two determinations differently from the alert entity and "Batch update alerts"; with the
# setting alert_determination_names = "either" they are taken too, and stored under the entity's name.
UPDATE_PAGE_NAMES = {"ConfirmedActivity": "ConfirmedUserActivity", "NotMalicious": "Clean"}
DEPRECATED = ("Apt", "SecurityPersonnel")               # no longer available through the API since August 2022
UPDATE_FIELDS = ("status", "assignedTo", "classification", "determination", "comment")
BATCH_FIELDS = ("alertIds",) + UPDATE_FIELDS


def _body_error(message):
    return ApiError(400, "InvalidRequestBody", "Request body is incorrect: %s" % message)


class Alerts:
    def __init__(self, clock, settings=None):
        self.clock = clock
        self.settings = settings if settings is not None else {}
        self.items = {}
        self.before_read = []   # callables run before alerts are read (investigations keep investigationState fresh)

    def _fresh(self):
        for hook in self.before_read:
            hook()

    def create(self, spec, machines):
        """An alert from a seed or control body: {title, severity, category, machineId, evidence: [...], and
        optionally status, assignedTo, classification, determination, comments: [{comment, createdBy,
        createdTime}], investigationId, investigationState}."""
        machine = machines.find_machine(spec["machineId"]) if spec.get("machineId") else None
        now = iso(self.clock.now())
        severity = spec.get("severity", "Medium")
        if severity not in SEVERITIES:
            raise ApiError(400, "InvalidInput", "severity must be one of %s" % ", ".join(SEVERITIES))
        alert_id = spec.get("id") or "da%s" % uuid.uuid4().hex[:30]
        status = spec.get("status", "New")
        self.items[alert_id] = {
            "id": alert_id, "incidentId": spec.get("incidentId", 1000 + len(self.items)),
            "investigationId": spec.get("investigationId"), "investigationState": spec.get("investigationState"),
            "assignedTo": spec.get("assignedTo"),
            "title": spec.get("title", "Suspicious activity"), "description": spec.get("description", ""),
            "severity": severity, "status": status, "classification": spec.get("classification"),
            "determination": spec.get("determination"), "category": spec.get("category", "Malware"),
            "detectionSource": spec.get("detectionSource", "WindowsDefenderAv"),
            "machineId": machine.id if machine else None, "computerDnsName": machine.name if machine else None,
            # A seed may give lastUpdateTime in any of the fraction forms the API writes (.19Z, .2Z, .1234567Z).
            "alertCreationTime": now, "firstEventTime": now, "lastEventTime": now,
            "lastUpdateTime": spec.get("lastUpdateTime", now),
            "resolvedTime": spec.get("resolvedTime", now if status == "Resolved" else None),
            "comments": [self._seed_comment(c, now) for c in spec.get("comments") or []],
            "evidence": [dict(e) for e in spec.get("evidence") or []],
        }
        return self.items[alert_id]

    @staticmethod
    def _seed_comment(comment, now):
        if isinstance(comment, str):
            comment = {"comment": comment}
        return {"comment": comment.get("comment"), "createdBy": comment.get("createdBy", "seed"),
                "createdTime": comment.get("createdTime", now)}

    def find(self, alert_id):
        self._fresh()
        return self._lookup(alert_id)

    def _lookup(self, alert_id):
        alert = self.items.get(alert_id)
        if alert is None:
            for key, value in self.items.items():
                if key.lower() == str(alert_id).lower():
                    return value
            raise ApiError(404, "NotFound", "Alert %s was not found" % alert_id)
        return alert

    def update(self, alert_id, changes):
        """The control API's update: any of status, severity, classification, determination, assignedTo,
        investigationId, investigationState, comments (replaces the list), without the API's checks."""
        alert = self.find(alert_id)
        if changes.get("status") and changes["status"] not in STATUSES:
            raise ApiError(400, "InvalidInput", "status must be one of %s" % ", ".join(STATUSES))
        now = iso(self.clock.now())
        for key in ("status", "severity", "classification", "determination", "assignedTo", "investigationId",
                    "investigationState"):
            if key in changes:
                alert[key] = changes[key]
        if "comments" in changes:
            alert["comments"] = [self._seed_comment(c, now) for c in changes["comments"] or []]
        if "status" in changes:
            alert["resolvedTime"] = now if changes["status"] == "Resolved" else None
        alert["lastUpdateTime"] = now
        return alert

    # --- the API's updates ---------------------------------------------------------------------------
    def _determination(self, value):
        if value in DEPRECATED:
            raise ApiError(400, "InvalidInput", "determination %s is deprecated and no longer available through "
                                                "the API" % value)
        if self.settings.get("alert_determination_names") == "either":
            return UPDATE_PAGE_NAMES.get(value, value)
        return value

    def _changes(self, body, allowed):
        """Check a PATCH or batch body's fields and values; returns the changes (without alertIds)."""
        unknown = sorted(k for k in body if k not in allowed)
        if unknown:
            cased = [k for k in unknown if k.lower() in {a.lower() for a in allowed}]
            hint = " (body parameters are case-sensitive)" if cased else ""
            raise _body_error("unknown property %s%s" % (", ".join(repr(k) for k in unknown), hint))
        changes = {k: body[k] for k in UPDATE_FIELDS if k in body}
        for key, value in changes.items():
            if not isinstance(value, str):
                raise _body_error("%s must be a string" % key)
        if "status" in changes and changes["status"] not in UPDATE_STATUSES:
            raise ApiError(400, "InvalidInput", "status %r is not valid; use one of %s"
                           % (changes["status"], ", ".join(UPDATE_STATUSES)))
        if "classification" in changes and changes["classification"] not in CLASSIFICATIONS:
            raise ApiError(400, "InvalidInput", "classification %r is not valid; use one of %s"
                           % (changes["classification"], ", ".join(CLASSIFICATIONS)))
        if "determination" in changes:
            changes["determination"] = self._determination(changes["determination"])
            known = {d for values in PAIRS.values() for d in values}
            if changes["determination"] not in known:
                raise ApiError(400, "InvalidInput", "determination %r is not valid; use one of %s"
                               % (changes["determination"], ", ".join(sorted(known))))
        return changes

    def _check_pair(self, alert, changes):
        """The classification the alert will have, and its determination, must be a documented pair."""
        classification = changes.get("classification", alert.get("classification"))
        determination = changes.get("determination")
        if determination is None or not self.settings.get("alert_pairs_enforced", True):
            return
        if classification is None:
            raise ApiError(400, "InvalidInput", "determination %s needs a classification: alert %s has none and "
                                                "the request sets none" % (determination, alert["id"]))
        if determination not in PAIRS.get(classification, ()):
            raise ApiError(400, "InvalidInput", "The pair classification %s / determination %s is not valid: %s "
                                                "takes %s" % (classification, determination, classification,
                                                              ", ".join(PAIRS.get(classification, ()))))

    def _apply(self, alert, changes, app):
        """Apply checked changes; lastUpdateTime moves only when something changed (a comment always does)."""
        now = iso(self.clock.now())
        changed = False
        for key in ("status", "assignedTo", "classification", "determination"):
            if key in changes and alert.get(key) != changes[key]:
                alert[key] = changes[key]
                changed = True
                if key == "status":
                    alert["resolvedTime"] = now if changes[key] == "Resolved" else None
        # A new classification that the old determination does not belong to: the determination is recalculated
        # ("Update alert": properties left out may be recalculated), here cleared.
        if "classification" in changes and "determination" not in changes and alert.get("determination") and \
                alert["determination"] not in PAIRS[alert["classification"]]:
            alert["determination"] = None
        if "comment" in changes:  # appended every time: the API does not dedupe, a client must
            alert.setdefault("comments", []).append({"comment": changes["comment"], "createdBy": app.requestor,
                                                     "createdTime": now})
            changed = True
        if changed:
            alert["lastUpdateTime"] = now
        return alert

    def patch(self, alert_id, body, app):
        """PATCH /api/alerts/{id}: the updated alert, or 400/404."""
        changes = self._changes(body, UPDATE_FIELDS)
        alert = self.find(alert_id)
        self._check_pair(alert, changes)
        return self.entity(self._apply(alert, changes, app))

    def batch_update(self, body, app):
        """POST /api/alerts/batchUpdate: all the alerts are checked first, then all are updated, or none is."""
        ids = body.get("alertIds")
        if ids is None:
            raise ApiError(400, "MissingRequiredParameter", "Parameter alertIds is missing")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ApiError(400, "InvalidInput", "alertIds must be a non-empty list of alert ids")
        limit = int(self.settings.get("alert_batch_max", 500))
        if len(ids) > limit:
            raise ApiError(400, "MaximumBatchSizeExceeded", "Maximum batch size exceeded. Received: %d, allowed: %d"
                           % (len(ids), limit))
        changes = self._changes(body, BATCH_FIELDS)
        self._fresh()
        found, missing = [], []
        for alert_id in dict.fromkeys(ids):   # a repeated id is updated (and commented) once
            try:
                found.append(self._lookup(alert_id))
            except ApiError:
                missing.append(alert_id)
        if missing and self.settings.get("alert_batch_unknown", "refuse") == "refuse":
            raise ApiError(404, "NotFound", "Alerts not found: %s" % ", ".join(missing))
        for alert in found:
            self._check_pair(alert, changes)
        for alert in found:
            self._apply(alert, changes, app)
        return found

    # --- reading -------------------------------------------------------------------------------------
    @staticmethod
    def entity(alert, expand=True):
        out = dict(alert)
        out["comments"] = [dict(c) for c in alert.get("comments") or []]
        if not expand:
            out.pop("evidence", None)
        return out

    def listed(self, expand):
        self._fresh()
        return [self.entity(alert, expand) for alert in
                sorted(self.items.values(), key=lambda a: hashlib.sha1(a["id"].encode()).hexdigest())]
