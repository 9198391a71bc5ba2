# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: pivots from files, IPs, domains, users and alerts to the devices (and alerts) the API
relates to them, many entities in one task.

Each entity gets one EntityRow: its facts (a file's information and statistics, an IP's or a domain's statistics,
a device's logon users), its alerts, and `machines` (id and name) with `via` saying which route named the device.
pivot_result() adds the de-duplicated `machine_ids` any action module takes as `machines:`, `machines` with the
entities that found each device (`found_by`), and `alert_ids`. An entity the API does not know is a row with
`found: false`, not a failure; a failure (a missing permission, a spent budget) fails its row.

Microsoft Learn, https://learn.microsoft.com/defender-endpoint/api/: get-file-information, get-file-statistics,
get-file-related-machines, get-file-related-alerts, get-ip-statistics, get-ip-related-alerts, get-domain-statistics,
get-domain-related-machines, get-domain-related-alerts, get-user-related-machines, get-user-related-alerts,
get-machine-log-on-users, get-alerts, get-alert-info-by-id, get-machine-related-alerts and get-alert-related-*-info.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.secops.defender.plugins.module_utils._alerts import check_ids
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._machines import check_machine_id
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, check_filter, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._results import ALERTS, ItemKind, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._untrusted import ALERT_ID, HOST_NAME, MACHINE_ID, SHA1, SHA256, shaped
from ansible_collections.secops.defender.plugins.module_utils._validate import api_machine_id, ip_address, utc_timestamp

MAX_LOOKBACK_HOURS = 720       # Learn, get-file-statistics: "The maximum value for lookbackhours is 720 Hours"
DOMAIN_MACHINES_MAX = 500      # Learn, get-domain-related-machines: "Responses are limited to 500 devices"
# Characters a user name cannot hold (Active Directory's sAMAccountName rules), whitespace, and the URL's own.
_NOT_IN_USER = re.compile(r"[\s\"/\\\[\]:;|=,+*?<>@%#&]")
HUNTING = "defender_advanced_hunting"


# --- the entities, checked before anything is sent -----------------------------------------------------------------
def check_file(value, option="files"):
    """A SHA-1 or SHA-256, lower-cased, and which it is."""
    text = (value or "").strip().lower() if isinstance(value, str) else ""
    if shaped(SHA1, text):
        return text, "sha1"
    if shaped(SHA256, text):
        return text, "sha256"
    raise DefenderInputError("%s item %r is not a SHA-1 (40 hexadecimal characters) or a SHA-256 (64): the files API "
                             "takes those two only (not MD5)." % (option, value))


def check_ip(value, option="ips"):
    return ip_address(value, "%s item" % option), "ip"


def check_domain(value, option="domains"):
    """A host name, lower-cased, without a trailing dot. A URL, a path, a port or a user is refused."""
    text = (value or "").strip().lower() if isinstance(value, str) else ""
    text = text[:-1] if text.endswith(".") else text
    if not HOST_NAME.match(text):
        what = "a URL or a path" if re.search(r"[/\\]", text) else "not a domain name"
        raise DefenderInputError("%s item %r is %s: give the host name alone, like c2.badcdn.example (no scheme, "
                                 "path, port or user)." % (option, value, what))
    return text, "domain"


def check_user(value, option="users"):
    """A user name as the users API takes it: the account name alone (Learn: "The ID is not the full UPN")."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if text and len(text) <= 256 and not _NOT_IN_USER.search(text) and text.isprintable():
        return text, "user"
    if "@" in text:
        hint = "give the user name alone: alice for alice@contoso.com (the API's id is not the full UPN)"
    elif "\\" in text:
        hint = "give the account name alone: alice for CORP\\alice"
    else:
        hint = "give an account name such as alice, without spaces, slashes or URL characters"
    raise DefenderInputError("%s item %r is not a user name: %s." % (option, value, hint))


def check_device(value, option="machines"):
    return check_machine_id(value, "%s item" % option), "machine_id"


def check_entities(values, option, check):
    """The task's entities as (given, value, type), in order, each once (by value)."""
    if not values:
        raise DefenderInputError("%s is empty: give at least one." % option)
    out, seen = [], set()
    for given in values:
        value, kind = check(given, option)
        if value not in seen:
            seen.add(value)
            out.append((given, value, kind))
    return out


def check_include(include, allowed):
    chosen = list(allowed) if include is None else [i for i in allowed if i in include]
    if not chosen:
        raise DefenderInputError("include is empty: name at least one of %s." % ", ".join(allowed))
    return chosen


def check_lookback(hours):
    if hours is not None and not 1 <= hours <= MAX_LOOKBACK_HOURS:
        raise DefenderInputError("lookback_hours must be between 1 and %d (30 days, the API's limit), not %s."
                                 % (MAX_LOOKBACK_HOURS, hours))
    return hours


# --- one entity's row ----------------------------------------------------------------------------------------------
class EntityRow(ItemRow):
    """One entity: what the API says of it (`parts`), its devices and alerts."""

    def __init__(self, given, value, id_type, parts):
        super(EntityRow, self).__init__()
        self.given = given
        self.value = value
        self.id_type = id_type
        self.wanted = parts          # the parts the task asked for, in their order
        self.parts = {}              # part -> the API's answer (None when it knows nothing)
        self.machines = []           # [{machine_id, machine_name, os_platform, health_status, last_seen, via}]
        self.found = None
        self.notes = []

    def add_machine(self, machine, via):
        """A device the API named (a Machine entity, or an alert's machineId and computerDnsName)."""
        machine_id = machine.get("id") if via != "alerts" else machine.get("machineId")
        if machine_id is None:
            return
        machine_id = api_machine_id(machine_id, "machine id related to %s" % self.value)
        if any(m["machine_id"] == machine_id for m in self.machines):
            return
        self.machines.append({"machine_id": machine_id, "machine_name": machine.get("computerDnsName"),
                              "os_platform": machine.get("osPlatform"), "health_status": machine.get("healthStatus"),
                              "last_seen": machine.get("lastSeen"), "via": via})

    def alert_ids(self):
        """The ids of its alerts that have an alert id's shape (they are handed on to the next task)."""
        return [a["id"] for a in self.parts.get("alerts") or [] if isinstance(a, dict)
                and shaped(ALERT_ID, a.get("id"), lower=False)]

    def fields(self):
        if not self.failed and not self.msg:
            self.msg = self.describe()
        row = {"entity": self.value, "type": self.id_type, "found": self.found if not self.failed else None}
        for part in self.wanted:
            row[part] = self.parts.get(part)
        row.update(machines=self.machines, machine_ids=[m["machine_id"] for m in self.machines],
                   alert_ids=self.alert_ids(), notes=self.notes)
        return row

    def describe(self):
        if self.found is False:
            return "The API knows nothing of %s." % self.value
        said = []
        if "stats" in self.parts:
            said.append("organization prevalence %d" % _prevalence(self.parts["stats"]))
        if "machines" in self.wanted or "alerts" in self.wanted:
            said.append("%d device(s)" % len(self.machines))
        if "alerts" in self.parts:
            said.append("%d alert(s)" % len(self.alert_ids()))
        if "logon_users" in self.parts:
            said.append("%d logon user(s)" % len(self.parts["logon_users"] or []))
        return "%s: %s." % (self.value, ", ".join(said))


def _get(client, path, params=None):
    """The answer, or None for a 404 (an unknown entity)."""
    try:
        return client.get(path, params=params)
    except DefenderNotFoundError:
        return None


def _collection(client, path, row):
    """The `value` of a collection route (these routes document no paging: one call)."""
    answer = _get(client, path)
    if answer is None:
        return None
    values = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(values, list):
        raise DefenderError("The API answered GET %s with something that is not a collection." % path,
                            method="GET", path=path, code="UnexpectedResponse")
    if answer.get("@odata.nextLink"):
        row.notes.append("GET %s had more than one page; only the first was read." % path.split("?")[0])
    return [v for v in values if isinstance(v, dict)]


def _stats_params(lookback):
    return {"lookBackHours": lookback} if lookback else None


def _read_alerts(client, row, path):
    alerts = _collection(client, path, row)
    row.parts["alerts"] = alerts or []
    for alert in row.parts["alerts"]:
        row.add_machine(alert, "alerts")


# --- the kinds -------------------------------------------------------------------------------------------------
def read_file(client, row, lookback):
    """Information and statistics by SHA-1 or SHA-256; devices and alerts by SHA-1 only (Learn, get-file-related-
    machines: "Only SHA-1 Hash Function is supported"), so a SHA-256 goes through the file's information for it."""
    segment = quote_segment(row.value)
    sha1 = row.value if row.id_type == "sha1" else None
    needs_sha1 = sha1 is None and ("machines" in row.wanted or "alerts" in row.wanted)
    if "info" in row.wanted or needs_sha1:
        info = _get(client, "/api/files/%s" % segment)
        if "info" in row.wanted:
            row.parts["info"] = info
        row.found = info is not None
        if needs_sha1 and info:
            sha1 = shaped(SHA1, info.get("sha1"))
    if "stats" in row.wanted and row.found is not False:
        row.parts["stats"] = _get(client, "/api/files/%s/stats" % segment, _stats_params(lookback))
        row.found = row.parts["stats"] is not None
    if row.found is False:
        for part in ("stats", "machines", "alerts"):
            if part in row.wanted:
                row.parts[part] = None if part == "stats" else []
        return
    if needs_sha1 and sha1 is None:
        row.notes.append("The devices and alerts of a file are found by its SHA-1 only (Learn, get-file-related-"
                         "machines), and the API's information on SHA-256 %s gives no SHA-1: its devices and alerts "
                         "are not known. Look for it with %s (DeviceFileEvents, SHA256)." % (row.value, HUNTING))
        client.warnings.append(row.notes[-1])
        return
    if needs_sha1:
        row.notes.append("Devices and alerts were looked up by the file's SHA-1 %s (from its information): those "
                         "routes take a SHA-1 only." % sha1)
    if "machines" in row.wanted:
        row.parts["machines"] = _collection(client, "/api/files/%s/machines" % quote_segment(sha1), row) or []
        for machine in row.parts["machines"]:
            row.add_machine(machine, "machines")
    if "alerts" in row.wanted:
        _read_alerts(client, row, "/api/files/%s/alerts" % quote_segment(sha1))
    if row.found is None:
        row.found = bool(row.machines or row.alert_ids())


def _prevalence(stats):
    value = (stats or {}).get("organizationPrevalence")
    return value if isinstance(value, int) else 0


def read_ip(client, row, lookback):
    """Statistics and alerts. Learn has no route from an IP to its devices: the devices are those of its alerts."""
    segment = quote_segment(row.value)
    if "stats" in row.wanted:
        row.parts["stats"] = _get(client, "/api/ips/%s/stats" % segment, _stats_params(lookback))
    if "alerts" in row.wanted:
        _read_alerts(client, row, "/api/ips/%s/alerts" % segment)
    row.found = _prevalence(row.parts.get("stats")) > 0 or bool(row.alert_ids())


def read_domain(client, row, lookback):
    segment = quote_segment(row.value)
    if "stats" in row.wanted:
        row.parts["stats"] = _get(client, "/api/domains/%s/stats" % segment, _stats_params(lookback))
    if "machines" in row.wanted:
        row.parts["machines"] = _collection(client, "/api/domains/%s/machines" % segment, row) or []
        for machine in row.parts["machines"]:
            row.add_machine(machine, "machines")
        if len(row.parts["machines"]) >= DOMAIN_MACHINES_MAX:
            row.notes.append("The API answers %d devices at most for a domain (Learn, get-domain-related-machines); "
                             "%s (DeviceNetworkEvents) finds all." % (DOMAIN_MACHINES_MAX, HUNTING))
    if "alerts" in row.wanted:
        _read_alerts(client, row, "/api/domains/%s/alerts" % segment)
    row.found = _prevalence(row.parts.get("stats")) > 0 or bool(row.machines or row.alert_ids())


def read_user(client, row, lookback):
    segment = quote_segment(row.value)
    if "machines" in row.wanted:
        row.parts["machines"] = _collection(client, "/api/users/%s/machines" % segment, row) or []
        for machine in row.parts["machines"]:
            row.add_machine(machine, "machines")
    if "alerts" in row.wanted:
        _read_alerts(client, row, "/api/users/%s/alerts" % segment)
    row.found = bool(row.machines or row.alert_ids())


def read_logon_users(client, row, lookback):
    """A device's logon users (Learn, get-machine-log-on-users: 404 for an unknown device)."""
    users = _collection(client, "/api/machines/%s/logonusers" % quote_segment(row.value), row)
    row.found = users is not None
    row.parts["logon_users"] = users or []
    if users is not None:
        row.machines.append({"machine_id": row.value, "machine_name": None, "os_platform": None,
                             "health_status": None, "last_seen": None, "via": "logonusers"})


class Pivot:
    """One kind of entity: its option, how a value is checked, the parts it can read, how a row is read."""

    def __init__(self, option, noun, check, parts, read):
        self.option = option
        self.kind = ItemKind("entity", noun, "failed_entities")
        self.check = check
        self.parts = parts
        self.read = read


FILES = Pivot("files", "file", check_file, ("info", "stats", "machines", "alerts"), read_file)
IPS = Pivot("ips", "IP address", check_ip, ("stats", "alerts"), read_ip)
DOMAINS = Pivot("domains", "domain", check_domain, ("stats", "machines", "alerts"), read_domain)
USERS = Pivot("users", "user", check_user, ("machines", "alerts"), read_user)
LOGON_USERS = Pivot("machines", "device", check_device, ("logon_users",), read_logon_users)


def run_in_parallel(work, items, concurrency):
    """work(item) for every item, `concurrency` at a time (the client's budget paces them)."""
    if concurrency <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(work, items))


def pivot(client, kind, entities, include=None, lookback=None, concurrency=4):
    """The rows of these entities (checked with check_entities), in the order given."""
    parts = check_include(include, kind.parts) if kind.parts != ("logon_users",) else list(kind.parts)
    rows = [EntityRow(given, value, id_type, parts) for given, value, id_type in entities]

    def read(row):
        try:
            kind.read(client, row, lookback)
        except DefenderError as exc:
            row.fail(exc)
        return row
    return run_in_parallel(read, rows, concurrency)


def devices_of(results, key):
    """The devices of these result rows, de-duplicated in order, each with the rows (by `key`) that named it."""
    devices = {}
    for row in results:
        for machine in row.get("machines") or []:
            entry = devices.setdefault(machine["machine_id"], {"machine_id": machine["machine_id"],
                                                               "machine_name": machine.get("machine_name"),
                                                               "found_by": []})
            entry["machine_name"] = entry["machine_name"] or machine.get("machine_name")
            if row[key] not in entry["found_by"]:
                entry["found_by"].append(row[key])
    return list(devices.values())


def unique(values):
    out = []
    for value in values:
        if value is not None and value not in out:
            out.append(value)
    return out


def pivot_result(rows, kind, client=None, fail_on_error=True, extra=None):
    """The module result: finish()'s keys, `machine_ids`, `machines` (with `found_by`) and `alert_ids`."""
    results = [r.as_dict() for r in rows]
    devices = devices_of(results, "entity")
    found = len([r for r in results if r["found"]])
    failed = len([r for r in results if r["failed"]])
    added = {"machine_ids": [d["machine_id"] for d in devices], "machines": devices,
             "alert_ids": unique(a for r in results for a in r["alert_ids"])}
    added.update(extra(results) if extra else {})
    summary = {"entities": len(results), "found": found, "not_found": len(results) - found - failed,
               "failed": failed, "machines": len(devices), "alerts": len(added["alert_ids"])}
    try:
        result = finish(results, kind.kind, summary, fail_on_error=fail_on_error, client=client)
    except DefenderActionError as exc:
        exc.result.update(added)
        raise
    result.update(added)
    return result


def logon_user_names(results):
    """The account names of the rows' logon users, each once: ready for the users option."""
    return {"users": unique(u.get("accountName") for r in results for u in r.get("logon_users") or [])}


def run_pivot(module, kind, include=None, lookback=None, extra=None):
    """What a pivot module's run() does: check, read, build the result."""
    params = module.params
    entities = check_entities(params.get(kind.option), kind.option, kind.check)
    check_lookback(lookback)
    rows = pivot(module.client, kind, entities, include, lookback, params.get("concurrency") or 4)
    return pivot_result(rows, kind, client=module.client, fail_on_error=params["fail_on_entity_error"], extra=extra)


# --- alerts: list with the documented filters, or by id, and what each one touches ---------------------------------
# Learn, "List alerts API" (get-alerts, 03/2025): $filter on these ("asssignedTo" on the page), $top, $skip and
# $expand=evidence. A device's alerts have their own route (get-machine-related-alerts), which takes no $filter.
ALERT_FILTERABLE = ("alertCreationTime", "lastUpdateTime", "incidentId", "InvestigationId", "id", "assignedTo",
                    "detectionSource", "lastEventTime", "status", "severity", "category")
ALERT_RELATED = ("files", "ips", "domains", "user", "machine")
# option -> (the alert's property, the comparison), for the time ranges.
ALERT_TIMES = (("created_after", "alertCreationTime", "ge"), ("created_before", "alertCreationTime", "lt"),
               ("updated_after", "lastUpdateTime", "ge"), ("updated_before", "lastUpdateTime", "lt"))


class AlertQuery:
    """The task's filters, as one $filter for GET /api/alerts and as a test of one alert (for the device route)."""

    def __init__(self, params):
        self.statuses = list(params.get("status") or [])
        self.severities = list(params.get("severity") or [])
        self.times = [(prop, op, utc_timestamp(params[option], option)) for option, prop, op in ALERT_TIMES
                      if params.get(option)]
        self.raw = params.get("filter")
        if self.raw:
            try:
                check_filter(self.raw, ALERT_FILTERABLE, option="filter", entity="alerts")
            except DefenderInputError as exc:
                if "machineid" in self.raw.lower():
                    exc.message += " For the alerts of devices, give their ids in machines."
                raise
        clauses = [any_of("status", self.statuses), any_of("severity", self.severities)]
        # Times are OData DateTimeOffset literals, unquoted (Learn's example: lastUpdateTime ge 2019-11-22T00:00:00Z).
        clauses += ["%s %s %s" % (prop, op, when) for prop, op, when in self.times]
        clauses.append("(%s)" % self.raw if self.raw else None)
        self.odata = all_of(*clauses)

    def with_ids(self, ids):
        return all_of(any_of("id", ids), self.odata)

    def matches(self, alert):
        if self.statuses and alert.get("status") not in self.statuses:
            return False
        if self.severities and alert.get("severity") not in self.severities:
            return False
        for prop, op, when in self.times:
            seen, bound = instant(alert.get(prop)), instant(when)
            if (op == "ge" and seen < bound) or (op == "lt" and seen >= bound):
                return False
        return True


class AlertInfoRow(ItemRow):
    def __init__(self, alert_id, alert=None):
        super(AlertInfoRow, self).__init__()
        self.alert_id = alert_id
        self.alert = alert
        self.related = {}

    def fields(self):
        alert = self.alert or {}
        if not self.failed and not self.msg:
            self.msg = ("No alert with id %s in this tenant (or the app may not see its device group)." % self.alert_id
                        if self.alert is None else "%s: %s" % (self.alert_id, alert.get("status")))
        row = {"alert_id": self.alert_id, "found": None if self.failed else self.alert is not None,
               "alert": self.alert, "machine_id": alert.get("machineId"), "machine_name": alert.get("computerDnsName")}
        row.update(self.related)
        row["machines"] = []
        for machine in [alert, self.related.get("machine")]:
            # Only a device id of the documented shape is handed on to a playbook's next action.
            machine_id = shaped(MACHINE_ID, (machine or {}).get("machineId" if machine is alert else "id"))
            if machine_id and all(m["machine_id"] != machine_id for m in row["machines"]):
                row["machines"].append({"machine_id": machine_id, "machine_name": (machine or {}).get("computerDnsName")})
        return row


def _sorted_alerts(alerts):
    """Newest update first (the API's order is not guaranteed; times compared as instants), then by id."""
    return sorted(alerts, key=lambda a: (-instant(a.get("lastUpdateTime")), str(a.get("id"))))


def _expand(evidence):
    return {"$expand": "evidence"} if evidence else {}


def find_alerts(client, query, alert_ids=None, machines=None, evidence=False, limit=None):
    """The alerts asked for: by id (20 a query), of devices (their route, then the filters here), or by the filters."""
    if alert_ids:
        found = {}
        for chunk in in_chunks(alert_ids):
            for alert in client.paged("/api/alerts", params=dict(_expand(evidence), **{"$filter": query.with_ids(chunk)})):
                found[str(alert.get("id", "")).lower()] = alert
        if machines:
            found = dict((k, a) for k, a in found.items() if a.get("machineId") in machines)
        return [AlertInfoRow(i, found.get(i.lower())) for i in alert_ids]
    if machines:
        listed = {}
        for machine_id in machines:
            try:
                answer = client.get("/api/machines/%s/alerts" % quote_segment(machine_id)) or {}
            except DefenderNotFoundError:   # Learn: 404 for a device the API does not know
                client.warnings.append("machines: no device with id %s in this tenant; it has no alerts." % machine_id)
                continue
            for alert in answer.get("value") or []:
                if isinstance(alert, dict) and query.matches(alert):
                    listed[alert.get("id")] = alert
        alerts = list(listed.values())
        if evidence and alerts:   # the device route shows no evidence: read them again through the list
            again = {}
            for chunk in in_chunks(list(listed)):
                for alert in client.paged("/api/alerts", params={"$expand": "evidence", "$filter": any_of("id", chunk)}):
                    again[alert.get("id")] = alert
            alerts = [again.get(a.get("id"), a) for a in alerts]
    else:
        params = dict(_expand(evidence))
        if query.odata:
            params["$filter"] = query.odata
        alerts = client.paged("/api/alerts", params=params, limit=limit)
    alerts = _sorted_alerts([a for a in alerts if isinstance(a, dict) and a.get("id")])
    return [AlertInfoRow(str(a["id"]), a) for a in (alerts[:limit] if limit else alerts)]


def read_related(client, row, include):
    """The related entities of one alert (Learn, get-alert-related-files-info, -ip-info, -domain-info, -user-info,
    -machine-info); a 404 for the user or the device means the alert has none."""
    base = "/api/alerts/%s" % quote_segment(row.alert_id)
    for part in include:
        if part in ("user", "machine"):
            row.related[part] = _get(client, "%s/%s" % (base, part))
            continue
        answer = _get(client, "%s/%s" % (base, part)) or {}
        values = [v for v in answer.get("value") or [] if isinstance(v, dict)]
        if part == "ips":
            row.related[part] = unique(v.get("id") for v in values)
        elif part == "domains":
            row.related[part] = unique(v.get("host") for v in values)
        else:
            row.related[part] = values


def alert_touches(results):
    """What the alerts touch, each once, ready for the pivots' options: sha1s, ips, domains, users."""
    rows = [r for r in results if r.get("found")]
    evidence = [e for r in rows for e in (r["alert"] or {}).get("evidence") or [] if isinstance(e, dict)]
    sha1s = [f.get("sha1") for r in rows for f in r.get("files") or []] + [e.get("sha1") for e in evidence]
    ips = [i for r in rows for i in r.get("ips") or []] + [e.get("ipAddress") for e in evidence]
    domains = [d for r in rows for d in r.get("domains") or []]
    users = [(r.get("user") or {}).get("accountName") for r in rows] + [e.get("accountName") for e in evidence]
    # Handed on to the next task's options, so only values of their documented shape (the API's text is data).
    return {"sha1s": unique(shaped(SHA1, s) for s in sha1s), "ips": unique(_shaped_ip(i) for i in ips),
            "domains": unique(shaped(HOST_NAME, d) for d in domains),
            "users": unique(u for u in users if _handed_on_user(u))}


def _shaped_ip(value):
    try:
        return check_ip(value)[0]
    except DefenderInputError:
        return None


def _handed_on_user(value):
    try:
        return check_user(value)[0] == value and not re.search(r"[{}]", value)
    except DefenderInputError:
        return False


def alert_info(client, params, concurrency=4):
    """defender_alert_info's result."""
    ids = check_ids(alert_ids=params["alert_ids"]) if params.get("alert_ids") is not None else None
    machines = [check_machine_id(m, "machines item") for m in params["machines"]] \
        if params.get("machines") is not None else None
    if machines is not None and not machines:
        raise DefenderInputError("machines is empty: give at least one device id.")
    if machines and params.get("filter"):
        raise DefenderInputError("filter cannot be used with machines: a device's alerts come from GET "
                                 "/api/machines/{id}/alerts, which takes no $filter. Use status, severity and the "
                                 "time options, which are applied to them.")
    for alert_id in ids or []:
        if not shaped(ALERT_ID, alert_id, lower=False):
            raise DefenderInputError("alert_ids item %r is not an alert id (letters, digits, '_' and '-', like "
                                     "da637292082891366787_-1768141037)." % alert_id)
    include = [p for p in ALERT_RELATED if p in (params.get("include") or [])]
    query = AlertQuery(params)
    rows = find_alerts(client, query, ids, machines, params.get("evidence"), params.get("limit"))

    def related(row):
        if row.alert is not None and include:
            try:
                read_related(client, row, include)
            except DefenderError as exc:
                row.fail(exc)
        return row
    rows = run_in_parallel(related, rows, concurrency)
    results = [r.as_dict() for r in rows]
    devices = devices_of([r for r in results if not r["failed"]], "alert_id")
    found = len([r for r in results if r["found"]])
    failed = len([r for r in results if r["failed"]])
    added = {"alert_ids": [r["alert_id"] for r in results if r["found"] and shaped(ALERT_ID, r["alert_id"], lower=False)],
             "machine_ids": [d["machine_id"] for d in devices], "machines": devices}
    added.update(alert_touches(results))
    summary = {"alerts": len(results), "found": found, "not_found": len(results) - found - failed,
               "failed": failed, "machines": len(devices)}
    try:
        result = finish(results, ALERTS, summary, fail_on_error=params["fail_on_alert_error"], client=client)
    except DefenderActionError as exc:
        exc.result.update(added)
        raise
    result.update(added)
    return result
