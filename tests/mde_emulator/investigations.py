"""Automated investigations: started on a device through the API, moved on the emulator's clock, listed and read.

Microsoft Learn:
- "Start Investigation API" (https://learn.microsoft.com/en-us/defender-endpoint/api/initiate-autoir-investigation):
  POST /api/machines/{id}/startInvestigation with {"Comment": ...} (required), Alert.ReadWrite.All, 50 calls per
  hour, 201 and the investigation; AIR supports Windows 10 (1709 and later), Windows 11, Windows Server 2019 and
  later and Azure Stack HCI 23H2 and later only.
- "Investigation resource type" (https://learn.microsoft.com/en-us/defender-endpoint/api/investigation): id,
  startTime, endTime, state, cancelledBy, statusDetails, machineId, computerDnsName, triggeringAlertId.
- "List Investigations API" (https://learn.microsoft.com/en-us/defender-endpoint/api/get-investigation-collection):
  $filter on startTime, id, state, machineId and triggeringAlertId; $top up to 10,000 and $skip; Alert.Read.All or
  Alert.ReadWrite.All.
- "Get Investigation API" (https://learn.microsoft.com/en-us/defender-endpoint/api/get-investigation-object): the
  id may be the investigation's id or its triggering alert's id.

Where Learn is silent (each a setting, see settings.py): starting one on a device that already has one running
creates a second (the client must look for a running one and reuse it); an unsupported platform is refused with
400 OsPlatformNotSupported (or, with investigation_unsupported = "state", created as UnsupportedOs); a manual start
raises an informational alert, "Automated investigation started manually", whose id is the triggeringAlertId.
"""

from .clock import iso
from .errors import ApiError

READ = ("Alert.Read.All", "Alert.ReadWrite.All")
WRITE = ("Alert.ReadWrite.All",)
FILTERABLE = ("startTime", "id", "state", "machineId", "triggeringAlertId")
STATES = ("Unknown", "Terminated", "SuccessfullyRemediated", "Benign", "Failed", "PartiallyRemediated", "Running",
          "PendingApproval", "PendingResource", "PartiallyInvestigated", "TerminatedByUser", "TerminatedBySystem",
          "Queued", "InnerFailure", "PreexistingAlert", "UnsupportedOs", "UnsupportedAlertType", "SuppressedAlert")
# States an investigation can sit in; every other state is final and sets endTime.
OPEN_STATES = ("Unknown", "Queued", "Running", "PendingApproval", "PendingResource")
SUPPORTED_PLATFORMS = ("Windows10", "Windows11", "WindowsServer2019", "WindowsServer2022", "WindowsServer2025",
                       "AzureStackHCI")
DETAILS = {
    "Failed": "The investigation failed to complete",
    "PartiallyRemediated": "Some threats were remediated; others need attention",
    "PendingApproval": "Remediation actions are pending approval",
    "PendingResource": "Waiting for the device to be available",
    "UnsupportedOs": "The device's OS platform isn't supported for automated investigation",
}


class Investigation:
    def __init__(self, inv_id, machine, app, comment, now, alert_id):
        self.id = inv_id
        self.machine = machine
        self.app = app
        self.comment = comment
        self.created = now
        self.alert_id = alert_id
        self.state = "Queued"
        self.end = None
        self.details = None
        self.cancelled_by = None
        self.fixed = None       # (state, details, cancelledBy, at): set by the control API or at creation

    def entity(self):
        return {"id": self.id, "startTime": iso(self.created), "endTime": iso(self.end), "state": self.state,
                "cancelledBy": self.cancelled_by, "statusDetails": self.details, "machineId": self.machine.id,
                "computerDnsName": self.machine.name, "triggeringAlertId": self.alert_id}


class Investigations:
    def __init__(self, clock, settings, alerts):
        self.clock = clock
        self.settings = settings
        self.alerts = alerts
        self.items = {}
        self.order = []
        self.next_id = 63000
        self.outcomes = {}          # machine id -> state, from the seed's machines[].investigationOutcome
        alerts.before_read.append(self.refresh_all)

    # --- lifecycle -------------------------------------------------------------------------------
    def outcome_for(self, machine):
        wanted = self.settings.get("investigation_outcomes") or {}
        for key, state in wanted.items():
            if key.lower() in (machine.id.lower(), machine.name.lower()):
                return state
        return self.outcomes.get(machine.id, self.settings["investigation_outcome"])

    def refresh(self, inv, now=None):
        """Bring one investigation up to the clock: Queued, Running, then its outcome (final, or one it stays in)."""
        if inv.end is not None:
            return
        now = self.clock.now() if now is None else now
        if inv.fixed is not None:
            state, details, cancelled_by, at = inv.fixed
            inv.state, inv.details, inv.cancelled_by = state, details, cancelled_by
            if state not in OPEN_STATES:
                inv.end = at
        else:
            s = self.settings
            machine = inv.machine
            if not machine.online:
                inv.state, inv.details = "PendingResource", DETAILS["PendingResource"]
            else:
                running_at = max(inv.created, machine.online_since or inv.created) + float(
                    s["investigation_queued_seconds"])
                final_at = running_at + float(s["investigation_running_seconds"])
                if now >= final_at:
                    outcome = self.outcome_for(machine)
                    inv.state, inv.details = outcome, DETAILS.get(outcome)
                    if outcome not in OPEN_STATES:
                        inv.end = final_at
                elif now >= running_at:
                    inv.state, inv.details = "Running", None
                else:
                    inv.state, inv.details = "Queued", None
        alert = self.alerts.items.get(inv.alert_id)
        if alert is not None:
            alert["investigationId"], alert["investigationState"] = int(inv.id), inv.state

    def refresh_all(self):
        now = self.clock.now()
        for inv_id in self.order:
            self.refresh(self.items[inv_id], now)

    # --- the API -----------------------------------------------------------------------------------
    def start(self, tenant, machine, app, body):
        comment = body.get("Comment")
        if comment is None:
            hint = " (body parameters are case-sensitive)" if "comment" in {k.lower() for k in body} else ""
            raise ApiError(400, "MissingRequiredParameter", "Parameter Comment is missing%s" % hint)
        if not isinstance(comment, str) or not comment.strip():
            raise ApiError(400, "InvalidInput", "Comment must be a non-empty string")
        status = machine.entity.get("onboardingStatus", "Onboarded")
        if status != "Onboarded":
            raise ApiError(400, "BadRequest", "Machine %s is not onboarded (onboardingStatus %s): automated "
                                              "investigation needs an onboarded device" % (machine.id, status))
        supported = machine.os_platform in SUPPORTED_PLATFORMS
        if not supported and self.settings["investigation_unsupported"] == "refuse":
            raise ApiError(400, "OsPlatformNotSupported", "OS Platform %s isn't supported for this action: automated "
                                                          "investigation" % machine.os_platform)
        now = self.clock.now()
        self.next_id += 1
        inv_id = str(self.next_id)
        alert_id = None
        if self.settings["investigation_creates_alert"]:
            alert = self.alerts.create({"title": "Automated investigation started manually", "severity":
                                        "Informational", "category": "SuspiciousActivity",
                                        "detectionSource": "AutomatedInvestigation", "machineId": machine.id,
                                        "description": comment, "investigationId": int(inv_id),
                                        "investigationState": "Queued"}, tenant)
            alert_id = alert["id"]
        inv = Investigation(inv_id, machine, app, comment, now, alert_id)
        if not supported:
            inv.fixed = ("UnsupportedOs", DETAILS["UnsupportedOs"], None, now)
        self.items[inv_id] = inv
        self.order.append(inv_id)
        self.refresh(inv, now)
        return inv

    def find(self, key):
        key = str(key)
        inv = self.items.get(key)
        if inv is None:
            for candidate in self.items.values():
                if candidate.alert_id and candidate.alert_id.lower() == key.lower():
                    inv = candidate
                    break
        if inv is None:
            raise ApiError(404, "ResourceNotFound", "Investigation %s was not found" % key)
        self.refresh(inv)
        return inv

    def listed(self):
        self.refresh_all()
        return [self.items[i].entity() for i in self.order]

    # --- the control API ---------------------------------------------------------------------------
    def force(self, key, body):
        """Fix an investigation's state from now on: {"state", "statusDetails", "cancelledBy"}."""
        inv = self.find(key)
        state = body.get("state")
        if state not in STATES:
            raise ApiError(400, "InvalidInput", "state must be one of %s" % ", ".join(STATES))
        if inv.end is not None:
            inv.end = None   # a forced state replaces even a final one
        inv.fixed = (state, body.get("statusDetails", DETAILS.get(state)), body.get("cancelledBy"), self.clock.now())
        self.refresh(inv)
        return inv
