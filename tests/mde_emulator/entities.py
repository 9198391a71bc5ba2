"""Entity pivots: files, IPs, domains and users, a device's logon users, an alert by id and its related entities.

Each route follows its Microsoft Learn page under learn.microsoft.com/defender-endpoint/api/: "Get file information
API" (get-file-information), "Get file statistics API" (get-file-statistics), "Get file-related machines API"
(get-file-related-machines), "Get file-related alerts API" (get-file-related-alerts), "Get IP statistics API"
(get-ip-statistics), "Get IP related alerts API" (get-ip-related-alerts), "Get domain statistics API"
(get-domain-statistics), "Get domain-related machines API" (get-domain-related-machines), "Get domain-related
alerts API" (get-domain-related-alerts), "Get user-related machines API" (get-user-related-machines), "Get
user-related alerts API" (get-user-related-alerts), "Get machine logon users API" (get-machine-log-on-users), "Get
machine related alerts API" (get-machine-related-alerts), "Get
alert information by ID API" (get-alert-info-by-id) and "Get alert related domains/files/IPs/machine/user
information" (get-alert-related-domain-info, -files-info, -ip-info, -machine-info, -user-info).

Every answer comes from the same rows as advanced hunting (events.py) and from the alerts, so a test can ask both:
- a device holds a file when a DeviceFileEvents or DeviceProcessEvents row on it has the file's SHA1 (or SHA256);
  files/{sha1}/machines are exactly the DeviceId values of
  `union DeviceFileEvents, DeviceProcessEvents | where SHA1 == '<sha1>' | distinct DeviceId`;
- an IP's devices are the DeviceNetworkEvents rows with that RemoteIP, a domain's those whose RemoteUrl's host is
  the domain (no subdomains), a user's the successful DeviceLogonEvents rows with that AccountName;
- an entity's alerts are the alerts whose evidence names it (sha1, ipAddress, the host of url, accountName);
- statistics count distinct devices within lookBackHours (at most 720, the default).

Learn's answers for what is not there: an unknown file is 404 (info, stats) or an empty list (machines, alerts); an
unknown IP or domain has organizationPrevalence 0; an unknown user has empty lists; an unknown device or alert is
404. files/{id}/machines and files/{id}/alerts take a SHA-1 only ("Only SHA-1 Hash Function is supported (not MD5
or SHA-256)"): another hash is 400 InvalidHashValue. Info and stats take a SHA-1 or a SHA-256. An invalid IP is 400
InvalidIpAddress, as Learn says; an invalid domain name 400 InvalidDomainName (Learn's common error code).

Permissions are Learn's. Two pages changed theirs in 2025: "Get domain-related alerts" now lists
Alert.ReadWrite.All only, and "Get user-related machines" Machine.ReadWrite.All only (the earlier pages also
listed Alert.Read.All and Machine.Read.All). `entity_permissions: current` (the default) enforces the current
pages, `legacy` the earlier ones.

GET /api/alerts/{id} shows evidence with $expand=evidence, like the list; `alert_evidence_by_id: always` shows it
always, as Learn's single-alert example does.
"""

import ipaddress
import re

from .clock import iso
from .errors import ApiError, json_response
from .events import FILE_TABLES, evidence_kind, host_of

FILE_READ = ("File.Read.All",)
IP_READ = ("Ip.Read.All",)
URL_READ = ("URL.Read.All",)
USER_READ = ("User.Read.All",)
MACHINE_READ = ("Machine.Read.All", "Machine.ReadWrite.All")
ALERT_READ = ("Alert.Read.All", "Alert.ReadWrite.All")
CURRENT_PERMISSIONS = {"domain_alerts": ("Alert.ReadWrite.All",), "user_machines": ("Machine.ReadWrite.All",)}
MAX_LOOKBACK_HOURS = 720
DOMAIN_MACHINES_MAX = 500
SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
PE_EXTENSIONS = (".exe", ".dll", ".sys", ".scr", ".cpl", ".ocx", ".drv", ".efi", ".com")

# Rate classes: Learn gives each of these routes its own 100 calls a minute and 1,500 an hour (the settings'
# `default` windows unless `rate_limits` names the class). GET /api/alerts/{id} stays in `default`, as the alert
# tests pin it (its PATCH is `alertupdate`).
_RATE_CLASSES = {
    ("files", 3): "files", ("files", "stats"): "file_stats", ("files", "machines"): "file_machines",
    ("files", "alerts"): "file_alerts", ("ips", "stats"): "ip_stats", ("ips", "alerts"): "ip_alerts",
    ("domains", "stats"): "domain_stats", ("domains", "machines"): "domain_machines",
    ("domains", "alerts"): "domain_alerts", ("users", "machines"): "user_machines",
    ("users", "alerts"): "user_alerts", ("machines", "logonusers"): "logonusers",
    ("machines", "alerts"): "machine_alerts", ("alerts", "files"): "alert_files",
    ("alerts", "ips"): "alert_ips", ("alerts", "domains"): "alert_domains", ("alerts", "user"): "alert_user",
    ("alerts", "machine"): "alert_machine",
}


def rate_class(path, method="GET"):
    """The rate class of an entity route (all are GETs), or None."""
    parts = path.lower().strip("/").split("/")
    if len(parts) < 3 or parts[0] != "api" or method.upper() != "GET":
        return None
    if len(parts) == 3:
        return _RATE_CLASSES.get((parts[1], 3))
    if len(parts) == 4:
        return _RATE_CLASSES.get((parts[1], parts[3]))
    return None


def require(app, roles):
    if not set(app.roles) & set(roles):
        raise ApiError(403, "Forbidden", "The application does not have any of the required application "
                                         "permissions (%s) to access the resource." % ", ".join(roles))


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        return None


def _domain(text):
    name = text.strip().rstrip(".")
    if not name or len(name) > 253 or not all(DOMAIN_LABEL.match(label) for label in name.split(".")):
        raise ApiError(400, "InvalidDomainName", "Domain name %s is invalid" % text)
    return name.lower()


def _lookback(request):
    raw = request.args.get("lookBackHours")
    if raw is None:
        for key, value in request.args.items():
            if key.lower() == "lookbackhours":
                raw = value
    if raw is None:
        return MAX_LOOKBACK_HOURS
    try:
        hours = int(raw)
    except ValueError:
        raise ApiError(400, "InvalidInput", "lookBackHours must be a whole number of hours, not %r" % raw)
    if hours < 1 or hours > MAX_LOOKBACK_HOURS:
        raise ApiError(400, "InvalidInput", "lookBackHours must be between 1 and %d (30 days), not %d"
                       % (MAX_LOOKBACK_HOURS, hours))
    return hours


def _logged_on(row):
    return row["ActionType"] in ("LogonSuccess", "") and bool(row["AccountName"])


class Entities:
    def __init__(self, emulator, events):
        self.emu = emulator
        self.tenant = emulator.tenant
        self.events = events

    def handle(self, route, request, app, **args):
        return getattr(self, route)(request, app, **args)

    # --- helpers ---------------------------------------------------------------------------------------
    def _roles(self, route, roles):
        if self.tenant.settings["entity_permissions"] == "current" and route in CURRENT_PERMISSIONS:
            return CURRENT_PERMISSIONS[route]
        return roles

    def _context(self, what):
        return "%s/api/$metadata#%s" % (self.emu.api_url, what)

    def _list(self, what, items):
        return json_response({"@odata.context": self._context(what), "value": items})

    def _machines(self, device_ids, limit=None):
        found = [m.entity for m in self.tenant.machines.values() if m.id in device_ids]
        return found[:limit] if limit else found

    def _alerts(self, matches):
        """The alerts (as the list shows them, without evidence) with an evidence item that `matches`."""
        out = []
        for alert in self.tenant.alerts.listed(True):
            if any(isinstance(e, dict) and matches(e) for e in alert.get("evidence") or []):
                entity = dict(alert)
                entity.pop("evidence", None)
                out.append(entity)
        return out

    def _alert(self, alert_id):
        items = self.tenant.alerts.items
        alert = items.get(alert_id) or next((a for k, a in items.items() if k.lower() == alert_id.lower()), None)
        if alert is None:
            raise ApiError(404, "ResourceNotFound", "Alert %s was not found" % alert_id)
        return alert

    @staticmethod
    def _stats(rows, now, hours):
        since = now - hours * 3600
        recent = [r for r in rows if r["Timestamp"] >= since]
        return {
            "organizationPrevalence": len({r["DeviceId"] for r in recent}),
            "orgFirstSeen": iso(min(r["Timestamp"] for r in recent)) if recent else None,
            "orgLastSeen": iso(max(r["Timestamp"] for r in recent)) if recent else None,
        }

    # --- files -----------------------------------------------------------------------------------------
    def _file(self, file_id, tables):
        """(sha1, rows, evidence) of the file a SHA-1 or SHA-256 names; rows are its DeviceFileEvents and
        DeviceProcessEvents rows."""
        key = file_id.strip().lower()
        if SHA1.match(key):
            column = "sha1"
        elif SHA256.match(key):
            column = "sha256"
        else:
            raise ApiError(400, "InvalidHashValue", "Hash value %s is invalid: give a SHA-1 or a SHA-256" % file_id)
        all_rows = [r for t in FILE_TABLES for r in tables[t]]
        evidence = [e for a in self.tenant.alerts.items.values() for e in a.get("evidence") or []
                    if isinstance(e, dict) and str(e.get(column) or "").lower() == key]
        rows = [r for r in all_rows if r[column.upper()] == key]
        sha1 = key if column == "sha1" else next(
            (x for x in [r["SHA1"] for r in rows] + [str(e.get("sha1") or "").lower() for e in evidence] if x), "")
        if sha1 and column == "sha256":   # the file's rows that carry only its SHA-1 are its rows too
            rows = [r for r in all_rows if r["SHA1"] == sha1 or r["SHA256"] == key]
            evidence = [e for a in self.tenant.alerts.items.values() for e in a.get("evidence") or []
                        if isinstance(e, dict) and (str(e.get("sha1") or "").lower() == sha1 or
                                                    str(e.get("sha256") or "").lower() == key)]
        return sha1, rows, evidence

    def _file_entity(self, sha1, rows, evidence, md5=False):
        def first(values):
            return next((v for v in values if v), None)
        times = [r["Timestamp"] for r in rows]
        names = [r["FileName"] for r in rows] + [str(e.get("fileName") or "") for e in evidence]
        name = first(names) or ""
        entity = {
            "sha1": sha1 or None,
            "sha256": first([r["SHA256"] for r in rows] + [str(e.get("sha256") or "").lower() for e in evidence]),
        }
        if md5:
            entity["md5"] = first(r["MD5"] for r in rows)
        entity.update({
            "globalPrevalence": len({r["DeviceId"] for r in rows}),
            "globalFirstObserved": iso(min(times)) if times else None,
            "globalLastObserved": iso(max(times)) if times else None,
            "size": first(r["FileSize"] for r in rows),
            "fileType": None,
            "isPeFile": name.lower().endswith(PE_EXTENSIONS),
            "filePublisher": None, "fileProductName": None, "signer": None, "issuer": None, "signerHash": None,
            "isValidCertificate": None,
            "determinationType": "Malware" if evidence else "Unknown",
            "determinationValue": None,
        })
        return entity

    def file_info(self, request, app, file_id):
        require(app, FILE_READ)
        sha1, rows, evidence = self._file(file_id, self.events.tables())
        if not rows and not evidence:
            raise ApiError(404, "ResourceNotFound", "File %s was not found" % file_id)
        return json_response(dict({"@odata.context": self._context("Files/$entity")},
                                  **self._file_entity(sha1, rows, evidence)))

    def file_stats(self, request, app, file_id):
        require(app, FILE_READ)
        hours = _lookback(request)
        now = self.tenant.clock.now()
        sha1, rows, evidence = self._file(file_id, self.events.tables(now))
        if not rows and not evidence:
            raise ApiError(404, "ResourceNotFound", "File %s was not found" % file_id)
        names = {}
        for row in rows:
            if row["FileName"]:
                names[row["FileName"]] = names.get(row["FileName"], 0) + 1
        times = [r["Timestamp"] for r in rows]
        body = {"@odata.context": self._context("microsoft.windowsDefenderATP.api.InOrgFileStats"),
                "sha1": sha1 or None}
        body.update(self._stats(rows, now, hours))
        body.update({   # "globallyPrevalence": Learn's spelling in this answer
            "globallyPrevalence": len({r["DeviceId"] for r in rows}),
            "globalFirstObserved": iso(min(times)) if times else None,
            "globalLastObserved": iso(max(times)) if times else None,
            "topFileNames": sorted(names, key=lambda n: (-names[n], n))[:5],
        })
        return json_response(body)

    def _sha1_only(self, file_id):
        if not SHA1.match(file_id.strip()):
            raise ApiError(400, "InvalidHashValue", "Hash value %s is invalid: only SHA-1 is supported here (not MD5 "
                                                    "or SHA-256)" % file_id)
        return file_id.strip().lower()

    def file_machines(self, request, app, file_id):
        require(app, MACHINE_READ)
        sha1 = self._sha1_only(file_id)
        tables = self.events.tables()
        devices = {r["DeviceId"] for t in FILE_TABLES for r in tables[t] if r["SHA1"] == sha1}
        return self._list("Machines", self._machines(devices))

    def file_alerts(self, request, app, file_id):
        require(app, ALERT_READ)
        sha1 = self._sha1_only(file_id)
        return self._list("Alerts", self._alerts(lambda e: str(e.get("sha1") or "").lower() == sha1))

    # --- IPs -------------------------------------------------------------------------------------------
    def _valid_ip(self, text):
        ip = _ip(text)
        if ip is None:
            raise ApiError(400, "InvalidIpAddress", "IP address %s is invalid" % text)
        return ip

    def ip_stats(self, request, app, ip):
        require(app, IP_READ)
        address = self._valid_ip(ip)
        hours = _lookback(request)
        now = self.tenant.clock.now()
        rows = [r for r in self.events.tables(now)["DeviceNetworkEvents"] if _ip(r["RemoteIP"]) == address]
        body = {"@odata.context": self._context("microsoft.windowsDefenderATP.api.InOrgIPStats"), "ipAddress": ip}
        body.update(self._stats(rows, now, hours))
        return json_response(body)

    def ip_alerts(self, request, app, ip):
        require(app, ALERT_READ)
        address = self._valid_ip(ip)
        return self._list("Alerts", self._alerts(lambda e: _ip(str(e.get("ipAddress") or "")) == address))

    # --- domains ---------------------------------------------------------------------------------------
    def _domain_rows(self, name, now=None):
        return [r for r in self.events.tables(now)["DeviceNetworkEvents"]
                if r["RemoteUrl"] and host_of(r["RemoteUrl"]) == name]

    def domain_stats(self, request, app, domain):
        require(app, URL_READ)
        name = _domain(domain)
        hours = _lookback(request)
        now = self.tenant.clock.now()
        body = {"@odata.context": self._context("microsoft.windowsDefenderATP.api.InOrgDomainStats"), "host": domain}
        body.update(self._stats(self._domain_rows(name, now), now, hours))
        return json_response(body)

    def domain_machines(self, request, app, domain):
        require(app, MACHINE_READ)
        devices = {r["DeviceId"] for r in self._domain_rows(_domain(domain))}
        return self._list("Machines", self._machines(devices, DOMAIN_MACHINES_MAX))

    def domain_alerts(self, request, app, domain):
        require(app, self._roles("domain_alerts", ALERT_READ))
        name = _domain(domain)
        return self._list("Alerts", self._alerts(lambda e: bool(e.get("url")) and host_of(str(e["url"])) == name))

    # --- users -----------------------------------------------------------------------------------------
    def _logons(self, tables, name=None, device=None):
        return [r for r in tables["DeviceLogonEvents"] if _logged_on(r)
                and (name is None or r["AccountName"].lower() == name.lower())
                and (device is None or r["DeviceId"] == device)]

    def user_machines(self, request, app, user_id):
        require(app, self._roles("user_machines", MACHINE_READ))
        devices = {r["DeviceId"] for r in self._logons(self.events.tables(), name=user_id)}
        return self._list("Machines", self._machines(devices))

    def user_alerts(self, request, app, user_id):
        require(app, ALERT_READ)
        return self._list("Alerts", self._alerts(
            lambda e: evidence_kind(e) == "user" and str(e.get("accountName") or "").lower() == user_id.lower()))

    def logon_users(self, request, app, machine_id):
        require(app, USER_READ)
        machine = self.tenant.find_machine(machine_id)
        groups = {}
        for row in self._logons(self.events.tables(), device=machine.id):
            groups.setdefault((row["AccountDomain"].lower(), row["AccountName"].lower()), []).append(row)
        users = []
        for rows in groups.values():
            types = sorted({r["LogonType"] for r in rows if r["LogonType"]})
            users.append({
                "id": "%s\\%s" % (rows[0]["AccountDomain"], rows[0]["AccountName"]),
                "accountName": rows[0]["AccountName"], "accountDomain": rows[0]["AccountDomain"],
                "firstSeen": iso(min(r["Timestamp"] for r in rows)), "lastSeen": iso(max(r["Timestamp"] for r in rows)),
                "logonTypes": ", ".join(types), "isDomainAdmin": False,
                "isOnlyNetworkUser": bool(types) and types == ["Network"],
            })
        return self._list("Users", users)

    def machine_alerts(self, request, app, machine_id):
        """Learn, "Get machine related alerts API" (get-machine-related-alerts): the device's alerts; 404 for an
        unknown device."""
        require(app, ALERT_READ)
        machine = self.tenant.find_machine(machine_id)
        return self._list("Alerts", [a for a in self.tenant.alerts.listed(False) if a.get("machineId") == machine.id])

    # --- an alert and its entities ---------------------------------------------------------------------
    def get_alert(self, request, app, alert_id):
        require(app, ALERT_READ)
        alert = self._alert(alert_id)
        expand = request.args.get("$expand")
        if expand is not None and expand.lower() != "evidence":
            raise ApiError(400, "ODataError", "The query parameter $expand supports evidence only")
        entity = dict(alert)
        entity["evidence"] = [dict(e) for e in alert.get("evidence") or []]
        if expand is None and self.tenant.settings["alert_evidence_by_id"] != "always":
            entity.pop("evidence")
        return json_response(entity)

    def _evidence(self, alert_id):
        return [e for e in self._alert(alert_id).get("evidence") or [] if isinstance(e, dict)]

    def alert_files(self, request, app, alert_id):
        require(app, FILE_READ)
        evidence = self._evidence(alert_id)
        tables = self.events.tables()
        files, seen = [], set()
        for item in evidence:
            sha1 = str(item.get("sha1") or "").lower()
            if SHA1.match(sha1) and sha1 not in seen:
                seen.add(sha1)
                found, rows, named = self._file(sha1, tables)
                files.append(self._file_entity(found, rows, named, md5=True))
        return self._list("Files", files)

    def alert_ips(self, request, app, alert_id):
        require(app, IP_READ)
        ips = []
        for item in self._evidence(alert_id):
            ip = _ip(str(item.get("ipAddress") or ""))
            if ip and {"id": ip} not in ips:
                ips.append({"id": ip})
        return self._list("Ips", ips)

    def alert_domains(self, request, app, alert_id):
        require(app, URL_READ)
        hosts = []
        for item in self._evidence(alert_id):
            host = host_of(str(item.get("url") or "")) if item.get("url") else ""
            if host and {"host": host} not in hosts:
                hosts.append({"host": host})
        return self._list("Domains", hosts)

    def alert_machine(self, request, app, alert_id):
        require(app, MACHINE_READ)
        alert = self._alert(alert_id)
        if not alert.get("machineId") or alert["machineId"] not in self.tenant.machines:
            raise ApiError(404, "ResourceNotFound", "No device is related to alert %s" % alert_id)
        return json_response(self.tenant.machines[alert["machineId"]].entity)

    def alert_user(self, request, app, alert_id):
        require(app, USER_READ)
        user = next((e for e in self._evidence(alert_id) if evidence_kind(e) == "user" and e.get("accountName")), None)
        if user is None:
            raise ApiError(404, "ResourceNotFound", "No user is related to alert %s" % alert_id)
        name, domain = str(user["accountName"]), str(user.get("domainName") or "")
        rows = [r for r in self._logons(self.events.tables(), name=name)
                if not domain or r["AccountDomain"].lower() == domain.lower()]
        per_device = {}
        for row in rows:
            per_device[row["DeviceId"]] = per_device.get(row["DeviceId"], 0) + 1
        ranked = sorted(per_device, key=lambda d: (-per_device[d], d))
        types = sorted({r["LogonType"] for r in rows if r["LogonType"]})
        body = {
            "@odata.context": self._context("Users/$entity"),
            "id": "%s\\%s" % (domain, name) if domain else name,
            "accountName": name, "accountDomain": domain or None,
            "accountSid": user.get("userSid") or next((r["AccountSid"] for r in rows if r["AccountSid"]), None),
            "firstSeen": iso(min(r["Timestamp"] for r in rows)) if rows else None,
            "lastSeen": iso(max(r["Timestamp"] for r in rows)) if rows else None,
            "mostPrevalentMachineId": ranked[0] if ranked else None,
            "leastPrevalentMachineId": ranked[-1] if ranked else None,
            "logonTypes": ", ".join(types) or None,
            "logOnMachinesCount": len(per_device),
            "isDomainAdmin": False,
            "isOnlyNetworkUser": bool(types) and types == ["Network"],
        }
        return json_response(body)
