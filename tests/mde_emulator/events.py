"""The advanced hunting tables: DeviceInfo, DeviceProcessEvents, DeviceFileEvents, DeviceNetworkEvents and
DeviceLogonEvents, with the columns of Microsoft Learn's schema pages ("DeviceInfo table in the advanced hunting
schema", learn.microsoft.com/defender-xdr/advanced-hunting-deviceinfo-table, and the DeviceProcessEvents,
DeviceFileEvents, DeviceNetworkEvents and DeviceLogonEvents pages beside it); a subset of each table's columns, the
same names and types.

Their rows come from three places, so that hunting, the entity routes (files, IPs, domains, users) and the alerts
all tell one story:
- the tenant itself, derived on every read: one DeviceInfo row per device; a DeviceFileEvents `FileCreated` row for
  each file a device holds (`machines[].files`, and files a live response script left), with the SHA-1, SHA-256
  and MD5 of its bytes; and rows for each alert's evidence on the alert's device (a File evidence is a
  `FileCreated` and a `ProcessCreated` row with its SHA-1, a Process evidence a `ProcessCreated` row, an Ip
  evidence a `ConnectionSuccess` to it, a Url evidence a `ConnectionSuccess` to its host, a User evidence a
  `LogonSuccess`), timed just before the alert's firstEventTime;
- the seed's `events` section, `{table: [row, ...]}`;
- the control API, `POST /_emulator/events` in the same form.

A row names its device by `DeviceId` or `DeviceName` (a device the tenant has); `Timestamp` is ISO 8601 or epoch
seconds, or `ago` gives its age ("26h", "3d", "90m", "45s"). A column a row leaves out is an empty string (string
columns) or null. A process or file row that names a file the device holds (`FolderPath`, the full path as in
the service's data, or `FolderPath` and `FileName`) without hashes gets that file's SHA1, SHA256, MD5 and FileSize;
so does its initiating process (`InitiatingProcessFolderPath`). Hashes are kept in lower case, as the service
writes them.

Advanced hunting keeps 30 days of data: a row older than 30 days, or later than the emulator's clock, is in no
table and no entity answer.
"""

import hashlib
import json
import re

from .clock import parse_iso
from .kql import TIMESPAN_UNITS

RETENTION_SECONDS = 30 * 86400

_INITIATING = [
    ("InitiatingProcessAccountDomain", "string"), ("InitiatingProcessAccountName", "string"),
    ("InitiatingProcessAccountSid", "string"), ("InitiatingProcessAccountUpn", "string"),
    ("InitiatingProcessSHA1", "string"), ("InitiatingProcessSHA256", "string"), ("InitiatingProcessMD5", "string"),
    ("InitiatingProcessFileName", "string"), ("InitiatingProcessFileSize", "long"),
    ("InitiatingProcessFolderPath", "string"), ("InitiatingProcessId", "long"),
    ("InitiatingProcessCommandLine", "string"), ("InitiatingProcessCreationTime", "datetime"),
    ("InitiatingProcessIntegrityLevel", "string"), ("InitiatingProcessParentId", "long"),
    ("InitiatingProcessParentFileName", "string"),
]
_DEVICE = [("Timestamp", "datetime"), ("DeviceId", "string"), ("DeviceName", "string"), ("ActionType", "string")]
_TAIL = [("ReportId", "long"), ("AdditionalFields", "string")]

TABLES = {
    "DeviceInfo": [
        ("Timestamp", "datetime"), ("DeviceId", "string"), ("DeviceName", "string"), ("ClientVersion", "string"),
        ("PublicIP", "string"), ("OSArchitecture", "string"), ("OSPlatform", "string"), ("OSBuild", "long"),
        ("IsAzureADJoined", "bool"), ("AadDeviceId", "string"), ("LoggedOnUsers", "string"),
        ("RegistryDeviceTag", "string"), ("OSVersion", "string"), ("MachineGroup", "string"), ("ReportId", "long"),
        ("OnboardingStatus", "string"), ("AdditionalFields", "string"), ("DeviceCategory", "string"),
        ("DeviceType", "string"), ("ExposureLevel", "string"), ("AssetValue", "string"),
        ("DeviceManualTags", "string"), ("SensorHealthState", "string"),
    ],
    "DeviceProcessEvents": _DEVICE + [
        ("FileName", "string"), ("FolderPath", "string"), ("SHA1", "string"), ("SHA256", "string"),
        ("MD5", "string"), ("FileSize", "long"), ("ProcessId", "long"), ("ProcessCommandLine", "string"),
        ("ProcessIntegrityLevel", "string"), ("ProcessCreationTime", "datetime"), ("AccountDomain", "string"),
        ("AccountName", "string"), ("AccountSid", "string"), ("AccountUpn", "string"), ("LogonId", "long"),
    ] + _INITIATING + _TAIL,
    "DeviceFileEvents": _DEVICE + [
        ("FileName", "string"), ("FolderPath", "string"), ("SHA1", "string"), ("SHA256", "string"),
        ("MD5", "string"), ("FileOriginUrl", "string"), ("FileOriginIP", "string"), ("PreviousFolderPath", "string"),
        ("PreviousFileName", "string"), ("FileSize", "long"), ("RequestAccountName", "string"),
        ("RequestAccountDomain", "string"), ("ShareName", "string"),
    ] + _INITIATING + _TAIL,
    "DeviceNetworkEvents": _DEVICE + [
        ("RemoteIP", "string"), ("RemotePort", "int"), ("RemoteUrl", "string"), ("LocalIP", "string"),
        ("LocalPort", "int"), ("Protocol", "string"), ("LocalIPType", "string"), ("RemoteIPType", "string"),
    ] + _INITIATING + _TAIL,
    "DeviceLogonEvents": _DEVICE + [
        ("LogonType", "string"), ("AccountDomain", "string"), ("AccountName", "string"), ("AccountSid", "string"),
        ("Protocol", "string"), ("FailureReason", "string"), ("IsLocalAdmin", "bool"), ("LogonId", "long"),
        ("RemoteDeviceName", "string"), ("RemoteIP", "string"), ("RemoteIPType", "string"), ("RemotePort", "int"),
    ] + _INITIATING + _TAIL,
}
HASH_COLUMNS = ("SHA1", "SHA256", "MD5", "InitiatingProcessSHA1", "InitiatingProcessSHA256", "InitiatingProcessMD5")
FILE_TABLES = ("DeviceFileEvents", "DeviceProcessEvents")   # the tables whose SHA1 says a device holds a file


class EventError(ValueError):
    pass


def parse_span(text):
    """'26h', '3d', '90m', '45s', '500ms' or a number of seconds -> seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|ms)\s*$", str(text))
    if not match:
        raise EventError("ago must be a timespan such as 26h, 3d, 90m or 45s, not %r" % (text,))
    return float(match.group(1)) * TIMESPAN_UNITS[match.group(2)]


def _stable(*parts):
    return int(hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()[:8], 16)


def _split_path(path):
    """(folder, name) of a Windows or POSIX path."""
    cut = max(path.rfind("\\"), path.rfind("/"))
    return (path[:cut], path[cut + 1:]) if cut >= 0 else ("", path)


def _join(folder, name):
    if not folder:
        return name
    if _split_path(folder)[1].lower() == name.lower():   # a full path already, as the service's data has it
        return folder
    sep = "/" if "/" in folder and "\\" not in folder else "\\"
    return folder.rstrip("\\/") + sep + name


def _hashes(data):
    return {"SHA1": hashlib.sha1(data).hexdigest(), "SHA256": hashlib.sha256(data).hexdigest(),
            "MD5": hashlib.md5(data).hexdigest(), "FileSize": len(data)}


def host_of(url):
    """The host name of a URL or bare host name, lower case, without port or credentials."""
    text = (url or "").strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#]", text, 1)[0]
    text = text.rsplit("@", 1)[-1]
    if text.startswith("["):
        return text[1:text.find("]")].lower() if "]" in text else text.lower()
    return text.split(":", 1)[0].lower().rstrip(".")


class EventStore:
    """The tables' rows: those added (seed, control API) and those derived from the tenant on every read."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.added = {name: [] for name in TABLES}
        self.file_seen = {}     # (device id, path lower, sha1) -> when the emulator first saw the file there
        self._report_id = 0

    # --- adding ----------------------------------------------------------------------------------------
    def add(self, spec, now=None):
        """Add rows in the seed's form, {table: [row, ...]}. All or nothing: a bad row adds none."""
        if not isinstance(spec, dict):
            raise EventError("events must be an object of table name: [rows]")
        now = self.tenant.clock.now() if now is None else now
        staged = {}
        for table, rows in spec.items():
            if table not in TABLES:
                raise EventError("no table %r; the tables are %s" % (table, ", ".join(TABLES)))
            if table == "DeviceInfo":
                raise EventError("DeviceInfo is derived from the devices themselves; seed machines instead")
            if not isinstance(rows, list):
                raise EventError("%s must be a list of rows" % table)
            staged[table] = [self._normalize(table, row, now) for row in rows]
        for table, rows in staged.items():
            self.added[table].extend(rows)
        return {table: len(rows) for table, rows in staged.items()}

    def _next_report_id(self):
        self._report_id += 1
        return self._report_id

    def _normalize(self, table, spec, now):
        if not isinstance(spec, dict):
            raise EventError("a %s row must be an object" % table)
        columns = dict(TABLES[table])
        spec = dict(spec)
        age = spec.pop("ago", None)
        unknown = sorted(k for k in spec if k not in columns)
        if unknown:
            raise EventError("%s has no column %s (its columns: %s)"
                             % (table, ", ".join(unknown), ", ".join(columns)))
        device = spec.get("DeviceId") or spec.get("DeviceName")
        if not device:
            raise EventError("a %s row needs DeviceId or DeviceName" % table)
        machine = self._machine(device)
        row = {column: ("" if type_ == "string" else None) for column, type_ in columns.items()}
        for column, value in spec.items():
            row[column] = self._coerce(table, column, columns[column], value)
        row["DeviceId"], row["DeviceName"] = machine.id, machine.name
        if "Timestamp" not in spec:
            row["Timestamp"] = now - (parse_span(age) if age is not None else 0.0)
        elif age is not None:
            raise EventError("give Timestamp or ago, not both")
        if row["ReportId"] is None:
            row["ReportId"] = self._next_report_id()
        self._fill_file(machine, row)
        return row

    def _machine(self, key):
        for machine in self.tenant.machines.values():
            if machine.id.lower() == str(key).lower() or machine.name.lower() == str(key).lower():
                return machine
        raise EventError("no device %r in the tenant" % (key,))

    @staticmethod
    def _coerce(table, column, type_, value):
        what = "%s.%s" % (table, column)
        if value is None:
            return "" if type_ == "string" else None
        if type_ == "string":
            if not isinstance(value, str):
                raise EventError("%s is a string, not %r" % (what, value))
            return value.lower() if column in HASH_COLUMNS else value
        if type_ in ("long", "int"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise EventError("%s is a whole number, not %r" % (what, value))
            return value
        if type_ == "bool":
            if not isinstance(value, bool):
                raise EventError("%s is true or false, not %r" % (what, value))
            return value
        if type_ == "datetime":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            try:
                return parse_iso(str(value))
            except ValueError:
                raise EventError("%s is an ISO 8601 date and time, not %r" % (what, value))
        raise EventError("%s has an unknown type" % what)

    @staticmethod
    def _fill_file(machine, row):
        """Hashes and size from the device's own copy of the file, where the row names one and gives none."""
        for prefix in ("", "InitiatingProcess"):
            folder_column = prefix + "FolderPath"
            if folder_column not in row or row.get(prefix + "SHA1"):
                continue
            folder, name = row.get(folder_column) or "", row.get(prefix + "FileName") or ""
            if not folder:
                continue
            path = _join(folder, name) if name else folder
            found = machine.get_file(path)
            if found is None:
                continue
            if not name:
                row[prefix + "FileName"] = _split_path(found[0])[1]
            for key, value in _hashes(found[1]).items():
                column = prefix + key
                if column in row and row[column] in ("", None):
                    row[column] = value

    # --- the tenant's own rows -------------------------------------------------------------------------
    def sync(self, now=None, backdate=False):
        """Note the files devices hold that the store has not seen yet. Seeded files (backdate) were created in
        the two days before the seed; a file that appears later (a script's output) was created when first seen."""
        now = self.tenant.clock.now() if now is None else now
        for machine in self.tenant.machines.values():
            for key, (_path, data) in machine.files.items():
                ident = (machine.id, key, hashlib.sha1(data).hexdigest())
                if ident not in self.file_seen:
                    offset = 3600.0 * (2 + _stable(machine.id, key) % 48) if backdate else 0.0
                    self.file_seen[ident] = now - offset

    def _file_rows(self):
        rows = []
        for machine in self.tenant.machines.values():
            for key, (path, data) in machine.files.items():
                ident = (machine.id, key, hashlib.sha1(data).hexdigest())
                when = self.file_seen.get(ident)
                if when is None:
                    continue
                row = {"Timestamp": when, "DeviceId": machine.id, "DeviceName": machine.name,
                       "ActionType": "FileCreated", "FileName": _split_path(path)[1], "FolderPath": path,
                       "ReportId": 1000000 + _stable(*ident) % 1000000}
                row.update(_hashes(data))
                rows.append(("DeviceFileEvents", row))
        return rows

    def _alert_rows(self):
        rows = []
        for alert in self.tenant.alerts.items.values():
            if not alert.get("machineId") or alert["machineId"] not in self.tenant.machines:
                continue
            machine = self.tenant.machines[alert["machineId"]]
            try:
                when = parse_iso(alert.get("firstEventTime") or alert["alertCreationTime"])
            except (KeyError, ValueError):
                continue
            evidence = [e for e in alert.get("evidence") or [] if isinstance(e, dict)]
            user = next((e for e in evidence if evidence_kind(e) == "user"), {})
            image = next((e for e in evidence if evidence_kind(e) in ("file", "process")), {})
            account = {"AccountName": _text(user.get("accountName")), "AccountDomain": _text(user.get("domainName")),
                       "AccountSid": _text(user.get("userSid"))}
            base = {"DeviceId": machine.id, "DeviceName": machine.name}
            for index, item in enumerate(evidence):
                kind = evidence_kind(item)
                report = 2000000 + _stable(alert["id"], index) % 1000000
                if kind in ("file", "process"):
                    name = _text(item.get("fileName"))
                    path = _join(_text(item.get("filePath")), name) if name else _text(item.get("filePath"))
                    image_columns = {"FileName": name or _split_path(path)[1], "FolderPath": path,
                                     "SHA1": _text(item.get("sha1")).lower(),
                                     "SHA256": _text(item.get("sha256")).lower()}
                    if kind == "file":
                        rows.append(("DeviceFileEvents", dict(base, Timestamp=when - 60, ActionType="FileCreated",
                                                              ReportId=report, **image_columns)))
                    command = _text(item.get("processCommandLine")) or image_columns["FileName"]
                    process = dict(base, Timestamp=when - 30, ActionType="ProcessCreated", ReportId=report + 1,
                                   ProcessCommandLine=command, ProcessCreationTime=when - 30,
                                   ProcessId=item.get("processId") if isinstance(item.get("processId"), int) else None,
                                   InitiatingProcessFileName=_text(item.get("parentProcessFileName")) or
                                   ("explorer.exe" if machine.os_platform.startswith("Windows") else "bash"),
                                   **image_columns)
                    process.update({k: v for k, v in account.items() if v})
                    rows.append(("DeviceProcessEvents", process))
                elif kind in ("ip", "url"):
                    url = _text(item.get("url"))
                    remote_ip = _text(item.get("ipAddress")) or (
                        "198.51.100.%d" % (_stable(host_of(url)) % 200 + 20) if url else "")
                    rows.append(("DeviceNetworkEvents", dict(
                        base, Timestamp=when - 10, ActionType="ConnectionSuccess", RemoteIP=remote_ip,
                        RemotePort=443, RemoteUrl=url, LocalIP=machine.entity.get("lastIpAddress") or "",
                        Protocol="Tcp", RemoteIPType="Public", ReportId=report,
                        InitiatingProcessFileName=_text(image.get("fileName")),
                        InitiatingProcessSHA1=_text(image.get("sha1")).lower(),
                        InitiatingProcessAccountName=account["AccountName"],
                        InitiatingProcessAccountDomain=account["AccountDomain"])))
                elif kind == "user" and account["AccountName"]:
                    rows.append(("DeviceLogonEvents", dict(
                        base, Timestamp=when - 600, ActionType="LogonSuccess", LogonType="Interactive",
                        ReportId=report, **account)))
        return rows

    def _device_info(self, machine, now, logons):
        entity = machine.entity
        try:
            last_seen = parse_iso(entity["lastSeen"])
        except (KeyError, ValueError):
            last_seen = now
        when = max(last_seen, now - now % 3600) if machine.online else last_seen
        users = []
        for row in logons:
            user = {"UserName": row["AccountName"], "DomainName": row["AccountDomain"], "Sid": row["AccountSid"]}
            if row["DeviceId"] == machine.id and user not in users and row["ActionType"] in ("LogonSuccess", ""):
                users.append(user)
        platform = machine.os_platform or ""
        return {
            "Timestamp": min(when, now), "DeviceId": machine.id, "DeviceName": machine.name,
            "ClientVersion": entity.get("agentVersion") or "", "PublicIP": entity.get("lastExternalIpAddress") or "",
            "OSArchitecture": "64-bit" if entity.get("osProcessor") in ("x64", "arm64") else "32-bit",
            "OSPlatform": platform, "OSBuild": entity.get("osBuild"),
            "IsAzureADJoined": bool(entity.get("isAadJoined")), "AadDeviceId": entity.get("aadDeviceId") or "",
            "LoggedOnUsers": json.dumps(users), "RegistryDeviceTag": "",
            "OSVersion": entity.get("osVersion") or entity.get("version") or "",
            "MachineGroup": entity.get("rbacGroupName") or "", "ReportId": 3000000 + _stable(machine.id) % 1000000,
            "OnboardingStatus": entity.get("onboardingStatus") or "", "AdditionalFields": "",
            "DeviceCategory": "Endpoint",
            "DeviceType": "Server" if "Server" in platform or platform == "Linux" else "Workstation",
            "ExposureLevel": entity.get("exposureLevel") or "", "AssetValue": entity.get("deviceValue") or "",
            "DeviceManualTags": json.dumps(list(entity.get("machineTags") or [])),
            "SensorHealthState": entity.get("healthStatus") or "",
        }

    # --- reading ---------------------------------------------------------------------------------------
    def tables(self, now=None):
        """{table: [row, ...]}: the rows of the last 30 days up to `now`, oldest first."""
        now = self.tenant.clock.now() if now is None else now
        self.sync(now)
        oldest = now - RETENTION_SECONDS
        out = {name: [] for name in TABLES}
        defaults = {name: {c: ("" if t == "string" else None) for c, t in columns}
                    for name, columns in TABLES.items()}
        for table, row in self._file_rows() + self._alert_rows():
            full = dict(defaults[table])
            full.update(row)
            out[table].append(full)
        for table, rows in self.added.items():
            out[table].extend(dict(r) for r in rows)
        for table in out:
            out[table] = [r for r in out[table] if r["Timestamp"] is not None and oldest <= r["Timestamp"] <= now]
        logons = out["DeviceLogonEvents"]
        out["DeviceInfo"] = [r for r in (self._device_info(m, now, logons) for m in self.tenant.machines.values())
                             if oldest <= r["Timestamp"] <= now]
        for table in out:
            out[table].sort(key=lambda r: (r["Timestamp"], r["ReportId"] or 0))
        return out


def evidence_kind(evidence):
    kind = str(evidence.get("entityType") or "").lower()
    if kind in ("file", "process", "user", "ip", "url"):
        return kind
    if evidence.get("sha1") or evidence.get("sha256"):
        return "file"
    if evidence.get("ipAddress"):
        return "ip"
    if evidence.get("url"):
        return "url"
    if evidence.get("accountName"):
        return "user"
    return kind


def _text(value):
    return value if isinstance(value, str) else ""
