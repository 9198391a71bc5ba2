"""Alerts (/api/alerts): seeded or created through the control API, updated by it, listed with $filter on the
documented properties and evidence only with $expand=evidence. Order is not guaranteed, as documented: the list
comes out shuffled by id hash, so a client must filter on lastUpdateTime and keep its own checkpoint."""

import hashlib
import uuid

from .clock import iso
from .errors import ApiError

READ = ("Alert.Read.All", "Alert.ReadWrite.All")
SEVERITIES = ("UnSpecified", "Informational", "Low", "Medium", "High")
STATUSES = ("Unknown", "New", "InProgress", "Resolved")
FILTERABLE = ("alertCreationTime", "lastUpdateTime", "incidentId", "InvestigationId", "id", "status", "severity",
              "category")


class Alerts:
    def __init__(self, clock):
        self.clock = clock
        self.items = {}

    def create(self, spec, machines):
        """An alert from a seed or control body: {title, severity, category, machineId, evidence: [...]}."""
        machine = machines.find_machine(spec["machineId"]) if spec.get("machineId") else None
        now = iso(self.clock.now())
        severity = spec.get("severity", "Medium")
        if severity not in SEVERITIES:
            raise ApiError(400, "InvalidInput", "severity must be one of %s" % ", ".join(SEVERITIES))
        alert_id = spec.get("id") or "da%s" % uuid.uuid4().hex[:30]
        self.items[alert_id] = {
            "id": alert_id, "incidentId": spec.get("incidentId", 1000 + len(self.items)),
            "title": spec.get("title", "Suspicious activity"), "description": spec.get("description", ""),
            "severity": severity, "status": spec.get("status", "New"), "category": spec.get("category", "Malware"),
            "detectionSource": spec.get("detectionSource", "WindowsDefenderAv"),
            "machineId": machine.id if machine else None, "computerDnsName": machine.name if machine else None,
            # A seed may give lastUpdateTime in any of the fraction forms the API writes (.19Z, .2Z, .1234567Z).
            "alertCreationTime": now, "firstEventTime": now, "lastEventTime": now,
            "lastUpdateTime": spec.get("lastUpdateTime", now),
            "evidence": [dict(e) for e in spec.get("evidence") or []],
        }
        return self.items[alert_id]

    def update(self, alert_id, changes):
        alert = self.items.get(alert_id)
        if alert is None:
            raise ApiError(404, "NotFound", "Alert %s was not found" % alert_id)
        if changes.get("status") and changes["status"] not in STATUSES:
            raise ApiError(400, "InvalidInput", "status must be one of %s" % ", ".join(STATUSES))
        for key in ("status", "severity", "classification", "determination", "assignedTo"):
            if key in changes:
                alert[key] = changes[key]
        alert["lastUpdateTime"] = iso(self.clock.now())
        return alert

    def listed(self, expand):
        out = []
        for alert in sorted(self.items.values(), key=lambda a: hashlib.sha1(a["id"].encode()).hexdigest()):
            entity = dict(alert)
            if not expand:
                entity.pop("evidence")
            out.append(entity)
        return out
