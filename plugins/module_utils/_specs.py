# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: every machine action the collection knows, in one place.

A machine action is one ActionSpec here (what it is called, its path, its permission, its body, what makes two of
them equal) and a module that checks its options and calls the engine (_fleet.py). Everything that lists actions
is derived from ACTION_SPECS: the action types defender_machine_action_info accepts, and the permission a 403 names
(permission_for, which also knows the endpoints that are not machine actions).

The permissions and platforms are those of each action's page on Microsoft Learn, for example
https://learn.microsoft.com/en-us/defender-endpoint/api/stop-and-quarantine-file and
https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re
import uuid

from ansible_collections.secops.defender.plugins.module_utils._actions import ACTIVE

COUNTS_AS_DONE = ACTIVE + ("Succeeded",)


class ActionSpec:
    """What one machine action is. Everything else (devices, dedupe, locks, pacing, waiting) is the engine's.

    action_type  the MachineAction `type` (StopAndQuarantineFile)
    verb         the path segment after /api/machines/{id}/ (StopAndQuarantineFile)
    permission   the application permission it needs, for docs and messages
    body         options -> the JSON body
    equal        (action, options) -> whether an existing action of this type on the device is "the same"
    key          options -> the text that makes two requests the same (the SHA-1), for the submit lock
    dedupe       whether an equal action that is pending, running or succeeded is reported instead of submitting
    busy_types   the action types whose pending action makes the API refuse this one
    want         the final status that counts as success (None: the caller judges)
    platforms    where the API supports it, for docs and messages
    counts       the statuses in which an equal action makes a new one unneeded (a scan: only while it runs)
    state_types  for a state the API does not show (isolation): the action types that set it. The newest of them
                 that is pending, running or succeeded is the device's state; it is "equal" when it is of this
                 spec's type and `equal` says so. No lookback applies: an isolation is in force until released.
    settled_without_history  with state_types: a device that never had any of them is already in this state
                 (it was never isolated, so it is released)
    request_key  (machine id, options) -> a digest of what makes two requests on a device the same, carried in
                 the ExternalID the engine sends, so a later run finds its own action by it (a session)
    read_full    whether a listed action without commands or ExternalID is read in full before `equal` judges it
    """

    def __init__(self, action_type, verb, permission, body, equal=None, key=None, dedupe=True, busy_types=None,
                 want="Succeeded", platforms=None, counts=None, state_types=None, settled_without_history=False,
                 request_key=None, read_full=False):
        self.action_type = action_type
        self.verb = verb
        self.permission = permission
        self.body = body
        self.equal = equal or (lambda action, options: True)
        self.key = key or (lambda options: "")
        self.dedupe = dedupe
        self.busy_types = busy_types or (action_type,)
        self.want = want
        self.platforms = platforms
        self.counts = tuple(counts or COUNTS_AS_DONE)
        self.state_types = tuple(state_types or ())
        self.settled_without_history = settled_without_history
        self.request_key = request_key
        self.read_full = read_full


# --- the ExternalID the engine sends -----------------------------------------------------------------------------
def _external_id(action):
    return action.get("externalID") or action.get("externalId")


def external_id(spec, machine_id, options):
    """The ExternalID sent with a request: unique to this request (the API echoes it, so a look-up after an unknown
    outcome knows its action for certain), and for a spec with a request_key, also what makes it the same request
    (so a later run, after a crash, finds the session it started)."""
    value = "secops-defender:%s" % uuid.uuid4()
    if spec.request_key is not None:
        value += ":req=%s" % spec.request_key(machine_id, options)
    return value


def request_key_of(action):
    """The request key an action's echoed ExternalID carries, or None."""
    echoed = _external_id(action) or ""
    return echoed.rsplit(":req=", 1)[1] if ":req=" in echoed else None


# --- stop and quarantine a file ---------------------------------------------------------------------------------
def same_file(action, options):
    """An equal quarantine is one of the same file (Failed, TimeOut and Cancelled ones don't count: the engine
    asks only for pending, running and succeeded actions)."""
    return ((action.get("relatedFileInfo") or {}).get("fileIdentifier") or "").lower() == options["sha1"]


QUARANTINE = ActionSpec(
    action_type="StopAndQuarantineFile", verb="StopAndQuarantineFile", permission="Machine.StopAndQuarantine",
    body=lambda options: {"Comment": options["comment"], "Sha1": options["sha1"]},
    equal=same_file, key=lambda options: options["sha1"],
    platforms="Windows 10 version 1703 or later, and Windows 11")


# --- isolation and app restriction --------------------------------------------------------------------------------
# Neither state shows on the Machine entity. The newest Isolate/Unisolate (RestrictCodeExecution/Unrestrict...)
# action that is pending, running or succeeded is the device's state; a device that never had one is released.
ISOLATION_PAIR = ("Isolate", "Unisolate")
RESTRICTION_PAIR = ("RestrictCodeExecution", "UnrestrictCodeExecution")
FULL_ISOLATION_PLATFORMS = "Windows 10 version 1703 or later, Windows 11 and Linux"
WINDOWS_1709_PLATFORMS = "Windows 10 version 1709 or later, and Windows 11"


def same_isolation_type(action, options):
    """An isolation of another type is not the one asked for. An action that does not say (no scope) counts as
    equal, so that an unknown answer never leads to a second isolation."""
    scope = action.get("scope")
    return not scope or scope.lower() == options["isolation_type"].lower()


def _comment(options):
    return {"Comment": options["comment"]}


ISOLATE = ActionSpec(
    action_type="Isolate", verb="isolate", permission="Machine.Isolate",
    body=lambda options: {"Comment": options["comment"], "IsolationType": options["isolation_type"]},
    equal=same_isolation_type, key=lambda options: options["isolation_type"], busy_types=ISOLATION_PAIR,
    state_types=ISOLATION_PAIR,
    platforms="%s (selective isolation: %s)" % (FULL_ISOLATION_PLATFORMS, WINDOWS_1709_PLATFORMS))

RELEASE_ISOLATION = ActionSpec(
    action_type="Unisolate", verb="unisolate", permission="Machine.Isolate", body=_comment,
    busy_types=ISOLATION_PAIR, state_types=ISOLATION_PAIR, settled_without_history=True,
    platforms=FULL_ISOLATION_PLATFORMS)

RESTRICT = ActionSpec(
    action_type="RestrictCodeExecution", verb="restrictCodeExecution", permission="Machine.RestrictExecution",
    body=_comment, busy_types=RESTRICTION_PAIR, state_types=RESTRICTION_PAIR, platforms=WINDOWS_1709_PLATFORMS)

UNRESTRICT = ActionSpec(
    action_type="UnrestrictCodeExecution", verb="unrestrictCodeExecution", permission="Machine.RestrictExecution",
    body=_comment, busy_types=RESTRICTION_PAIR, state_types=RESTRICTION_PAIR, settled_without_history=True,
    platforms=WINDOWS_1709_PLATFORMS)


# --- antivirus scan -----------------------------------------------------------------------------------------------
def same_scan_type(action, options):
    scope = action.get("scope")
    return not scope or scope.lower() == options["scan_type"].lower()


AV_SCAN = ActionSpec(
    action_type="RunAntiVirusScan", verb="runAntiVirusScan", permission="Machine.Scan",
    body=lambda options: {"Comment": options["comment"], "ScanType": options["scan_type"]},
    equal=same_scan_type, key=lambda options: options["scan_type"], counts=ACTIVE,
    platforms="Windows 10 version 1709 or later, and Windows 11")


# --- offboarding --------------------------------------------------------------------------------------------------
OFFBOARD = ActionSpec(
    action_type="Offboard", verb="offboard", permission="Machine.Offboard",
    body=_comment, state_types=("Offboard",), platforms="Windows (not macOS or Linux)")


# --- investigation package ----------------------------------------------------------------------------------------
INVESTIGATION_PACKAGE = ActionSpec(
    action_type="CollectInvestigationPackage", verb="collectInvestigationPackage",
    permission="Machine.CollectForensics", body=_comment,
    platforms="Windows 10 and 11, Windows Server 2012 R2 and later")


# --- live response ------------------------------------------------------------------------------------------------
def request_digest(machine_id, options):
    """What makes two sessions "the same request": the device, the commands (with their arguments) and the
    comment. Carried in the ExternalID, so a run after a crash finds the session the first one started."""
    raw = json.dumps([(machine_id or "").lower(), options["commands"], options["comment"]], sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def same_request(action, options):
    """Whether a listed session is this request's, by the key in its ExternalID; a session without one (the API
    did not echo it) by its comment and commands."""
    key = request_key_of(action)
    if key is not None:
        return key == request_digest(action.get("machineId"), options)
    commands = [{"type": (c.get("command") or {}).get("type"), "params": (c.get("command") or {}).get("params")}
                for c in action.get("commands") or []]
    return bool(commands) and action.get("requestorComment") == options["comment"] and \
        commands == options["commands"]


# The statuses in which a session of the same request is adopted, not run again: its commands may have run on
# the device (TimeOut never reached it; Cancelled was someone's decision, so asking again runs it).
ADOPTED_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed")

LIVE_RESPONSE = ActionSpec(
    action_type="LiveResponse",
    verb="runliveresponse",
    permission="Machine.LiveResponse",
    body=lambda options: {"Comment": options["comment"], "Commands": options["commands"]},
    equal=same_request,
    key=lambda options: request_digest("", options),  # the submit lock: one per device and request
    request_key=request_digest,
    read_full=True,
    counts=ADOPTED_STATUSES,
    want=None,      # the Collector judges the session (failed commands, exit codes)
    platforms="Windows 10 and 11, Windows Server 2012 R2 and later, macOS and Linux",
)

ACTION_SPECS = (AV_SCAN, OFFBOARD, LIVE_RESPONSE, INVESTIGATION_PACKAGE, ISOLATE, RELEASE_ISOLATION, QUARANTINE,
                RESTRICT, UNRESTRICT)
# What defender_machine_action_info's `type` accepts (its documented choices, in this order).
ACTION_TYPES = tuple(spec.action_type for spec in ACTION_SPECS)

# Which app permission each endpoint needs, so a 403 can say what to grant. The machine actions come from their
# specs; then the endpoints that are not machine actions, most specific first.
_PERMISSIONS = tuple((r"/%s$" % re.escape(spec.verb.lower()), spec.permission) for spec in ACTION_SPECS) + (
    # The result link and the package URI need read permission, not the action's own (Learn, "Get live response
    # results" and "Get package SAS URI").
    (r"/getliveresponseresultdownloadlink|/getpackageuri$", "Machine.Read.All (or Machine.ReadWrite.All)"),
    (r"/tags$|/addorremovetagformultiplemachines$", "Machine.ReadWrite.All"),
    (r"/machineactions/[^/]+/cancel$", "the permission of the action being cancelled (for example "
                                       "Machine.LiveResponse or Machine.StopAndQuarantine)"),
    (r"^/api/libraryfiles", "Library.Manage"),
    (r"^/api/indicators", "Ti.ReadWrite.All (or Ti.ReadWrite)"),
    # The entity pivots and an alert's related entities, as each route's Learn page lists them (get-file-information,
    # get-file-related-machines, get-domain-related-alerts (2025: write only), get-user-related-machines (2025: write
    # only), get-machine-log-on-users, get-alert-related-*-info ...).
    (r"^/api/domains/[^/]+/alerts$", "Alert.ReadWrite.All (Learn's page for this route lists no read-only permission)"),
    (r"^/api/users/[^/]+/machines$", "Machine.ReadWrite.All (Learn's page for this route lists no read-only permission)"),
    (r"^/api/(files|ips|users)/[^/]+/alerts$|^/api/machines/[^/]+/alerts$", "Alert.Read.All (or Alert.ReadWrite.All)"),
    (r"^/api/(files|domains)/[^/]+/machines$|^/api/alerts/[^/]+/machine$", "Machine.Read.All (or Machine.ReadWrite.All)"),
    (r"^/api/files/|^/api/alerts/[^/]+/files$", "File.Read.All"),
    (r"^/api/ips/|^/api/alerts/[^/]+/ips$", "Ip.Read.All"),
    (r"^/api/domains/|^/api/alerts/[^/]+/domains$", "URL.Read.All"),
    (r"^/api/machines/[^/]+/logonusers$|^/api/alerts/[^/]+/user$", "User.Read.All"),
    # Reading and updating alerts (Learn, "Update alert" and "Batch update alerts"): the updates need write.
    (r"^/api/alerts", "Alert.ReadWrite.All"),
    # Automated investigations (Learn, "Start Investigation API" and "List Investigations API").
    (r"/startinvestigation$", "Alert.ReadWrite.All"),
    (r"^/api/investigations", "Alert.Read.All (or Alert.ReadWrite.All)"),
    (r"^/api/machines|^/api/machineactions", "Machine.Read.All (or Machine.ReadWrite.All)"),
    # Learn, "Advanced hunting API" (run-advanced-query-api).
    (r"^/api/advancedqueries/run$", "AdvancedQuery.Read.All"),
)


def permission_for(path):
    """The app permission an API path needs, or None when unknown."""
    lowered = (path or "").lower().split("?", 1)[0]
    for pattern, permission in _PERMISSIONS:
        if re.search(pattern, lowered):
            return permission
    return None
