# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the shipped advanced hunting queries ("hunts") and the one way a value enters KQL.

A hunt is KQL with typed parameters. Every parameter is checked for its type before a query is built (a hash is
hex of its length, an IP parses, a domain is a DNS name, a URL has a host, a user a name of account characters),
and every string reaches the query only through kql_string(), as a single-quoted KQL literal, so a parameter can
never change what the query does. Every hunt returns DeviceId and DeviceName, and looks back `lookback_days` (1 to
30: advanced hunting keeps 30 days of data).

KQL's string literals: Microsoft Learn, "The string data type"
(https://learn.microsoft.com/kusto/query/scalar-data-types/string): in single quotes, a single quote and the
backslash are escaped with a backslash, and so are the tab (\\t) and the line feed (\\n), which must not appear raw;
nothing else needs escaping. The tables and columns: Learn's advanced hunting schema pages
(https://learn.microsoft.com/defender-xdr/advanced-hunting-schema-tables).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._untrusted import HOST_NAME

MAX_LOOKBACK_DAYS = 30       # Learn, "Advanced hunting API": data from the last 30 days only
DEFAULT_LOOKBACK_DAYS = 7
MAX_VALUES = 500             # values of one parameter in one query (a longer list: split it over several tasks)
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t"}
_HEX = re.compile(r"^[0-9a-f]+$")
# An account name: Windows forbids " / \\ [ ] : ; | = , + * ? < > and control characters in it; a domain part
# (DOMAIN\\name) is a NetBIOS or DNS name.
_ACCOUNT = re.compile(r"^[^\"/\\\[\]:;|=,+*?<>\s][^\"/\\\[\]:;|=,+*?<>]{0,103}$")
_SID = re.compile(r"^S-1-\d+(-\d+){1,15}$", re.IGNORECASE)
_FILE_NAME = re.compile(r"^[^\\/:*?\"<>|]{1,255}$")


def kql_string(value):
    """`value` as a KQL single-quoted string literal that the parser reads back as exactly `value`.

    Other control characters (a carriage return among them) have no escape in Learn's rules and are refused: no
    value a hunt takes can hold one."""
    if not isinstance(value, str):
        raise DefenderInputError("Only text can be written as a KQL string literal, not %s." % type(value).__name__)
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise DefenderInputError("A KQL string literal cannot hold the control character U+%04X; remove it."
                                     % ord(char))
        else:
            out.append(char)
    return "'%s'" % "".join(out)


def kql_list(values):
    """A parenthesised list of string literals, for `in (...)`."""
    return "(%s)" % ", ".join(kql_string(v) for v in values)


# --- parameter types: each turns what the task gave into checked text, or says what is wrong -----------------
def _hash(length, label):
    def check(value):
        text = value.strip().lower()
        if len(text) != length or not _HEX.match(text):
            raise ValueError("a %s, %d hexadecimal characters" % (label, length))
        return text
    return check


def _ip(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("an IP address such as 198.51.100.23 or 2001:db8::1 (no CIDR range, no port)")


def _domain(value):
    text = value.strip().lower().rstrip(".")
    if not HOST_NAME.match(text) or "." not in text or "_" in text:
        raise ValueError("a DNS domain such as c2.badcdn.example (letters, digits, '-' and dots; no scheme or path)")
    return text


def _url(value):
    text = value.strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    if not parts.hostname or parts.scheme not in ("", "http", "https") or any(c.isspace() for c in text):
        raise ValueError("a URL such as https://update.badcdn.example/svc-update.exe (http or https, with a host)")
    if not _is_ip(parts.hostname):
        _domain(parts.hostname)
    return text


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _user(value):
    """alice, CORP\\alice or a SID: returns (domain or None, name or SID)."""
    text = value.strip()
    if _SID.match(text):
        return (None, text.upper())
    domain, sep, name = text.rpartition("\\")
    if sep and not (HOST_NAME.match(domain) and len(domain) <= 63):
        raise ValueError("an account such as alice, CORP\\alice or a SID (the domain part is a NetBIOS or DNS name)")
    if not _ACCOUNT.match(name):
        raise ValueError("an account such as alice, CORP\\alice or a SID (no spaces at the ends, no \" / \\ [ ] : ; "
                         "| = , + * ? < >)")
    return (domain or None, name)


def _file_name(value):
    text = value.strip()
    if not _FILE_NAME.match(text) or text in (".", ".."):
        raise ValueError("a file name such as svc-update.exe (no folder, none of \\ / : * ? \" < > |)")
    return text


class Param:
    """One parameter of a hunt: its checker, whether it takes a list, whether it is required."""

    def __init__(self, name, check, description, many=True, required=False):
        self.name, self.check, self.description, self.many, self.required = name, check, description, many, required


class Hunt:
    def __init__(self, name, description, params, build, one_of=()):
        self.name = name
        self.description = description
        self.params = dict((p.name, p) for p in params)
        self.build = build          # checked values ({name: [values]}, lookback days) -> KQL
        self.one_of = one_of        # at least one of these must be given

    def query(self, parameters):
        return self.build(self.checked(parameters), self.lookback(parameters))

    def lookback(self, parameters):
        value = (parameters or {}).get("lookback_days", DEFAULT_LOOKBACK_DAYS)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
            raise DefenderInputError("hunt %s: lookback_days must be a whole number of days from 1 to %d, not %r."
                                     % (self.name, MAX_LOOKBACK_DAYS, value))
        days = int(value)
        if not 1 <= days <= MAX_LOOKBACK_DAYS:
            raise DefenderInputError("hunt %s: lookback_days must be from 1 to %d (advanced hunting keeps %d days of "
                                     "data), not %d." % (self.name, MAX_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS, days))
        return days

    def checked(self, parameters):
        parameters = dict(parameters or {})
        unknown = sorted(set(parameters) - set(self.params) - set(["lookback_days"]))
        if unknown:
            raise DefenderInputError("hunt %s does not take %s; it takes %s." % (
                self.name, ", ".join(unknown), ", ".join(sorted(self.params) + ["lookback_days"])))
        values = {}
        for name, param in self.params.items():
            given = parameters.get(name)
            if given is None or given == [] or given == "":
                if param.required:
                    raise DefenderInputError("hunt %s needs %s: %s." % (self.name, name, param.description))
                continue
            items = given if isinstance(given, list) else [given]
            if len(items) > 1 and not param.many:
                raise DefenderInputError("hunt %s: %s takes one value, not a list." % (self.name, name))
            if len(items) > MAX_VALUES:
                raise DefenderInputError("hunt %s: %s has %d values; one query takes at most %d (split the list)."
                                         % (self.name, name, len(items), MAX_VALUES))
            checked = []
            for item in items:
                if not isinstance(item, (str, int)):
                    raise DefenderInputError("hunt %s: %s must be text, not %s."
                                             % (self.name, name, type(item).__name__))
                try:
                    value = param.check(str(item))
                except ValueError as exc:
                    raise DefenderInputError("hunt %s: %s %r is not valid: expected %s."
                                             % (self.name, name, str(item)[:80], exc))
                if value not in checked:
                    checked.append(value)
            values[name] = checked
        if self.one_of and not any(values.get(n) for n in self.one_of):
            raise DefenderInputError("hunt %s needs one of %s." % (self.name, ", ".join(self.one_of)))
        return values


def _since(days):
    return "| where Timestamp > ago(%dd)" % days


def _any(column, values, operator):
    """`column operator value` for each value, joined with or, in parentheses."""
    return "(%s)" % " or ".join("%s %s %s" % (column, operator, kql_string(v)) for v in values)


def _by_device(first="FirstSeen", last="LastSeen"):
    return ("| summarize %s = min(Timestamp), %s = max(Timestamp), Events = count() by DeviceId, DeviceName\n"
            "| order by %s desc" % (first, last, last))


def _file_seen(values, days):
    clauses = []
    for name, column in (("sha1", "SHA1"), ("sha256", "SHA256")):
        if values.get(name):
            clauses.append("%s in %s" % (column, kql_list(values[name])))
            clauses.append("InitiatingProcess%s in %s" % (column, kql_list(values[name])))
    return "\n".join(["union DeviceProcessEvents, DeviceFileEvents", _since(days),
                      "| where " + " or ".join(clauses), _by_device()])


def _process_from_file(values, days):
    clauses = []
    if values.get("sha1"):
        clauses.append("SHA1 in %s" % kql_list(values["sha1"]))
    if values.get("sha256"):
        clauses.append("SHA256 in %s" % kql_list(values["sha256"]))
    if values.get("file_name"):
        clauses.append("FileName in~ %s" % kql_list(values["file_name"]))
    return "\n".join([
        "DeviceProcessEvents", _since(days), "| where " + " or ".join(clauses),
        "| project Timestamp, DeviceId, DeviceName, FileName, FolderPath, SHA1, SHA256, ProcessId, "
        "ProcessCommandLine, AccountDomain, AccountName, InitiatingProcessFileName, InitiatingProcessCommandLine",
        "| order by Timestamp desc"])


def _contacted_ip(values, days):
    return "\n".join(["DeviceNetworkEvents", _since(days), "| where RemoteIP in %s" % kql_list(values["ip"]),
                      _by_device()])


def _contacted_domain(values, days):
    # `has` matches the domain as whole terms: c2.badcdn.example in a URL or a host name, and its subdomains.
    return "\n".join(["DeviceNetworkEvents", _since(days), "| where " + _any("RemoteUrl", values["domain"], "has"),
                      _by_device()])


def _contacted_url(values, days):
    return "\n".join(["DeviceNetworkEvents", _since(days),
                      "| where " + _any("RemoteUrl", values["url"], "contains"), _by_device()])


def _user_logons(values, days):
    clauses = []
    for domain, name in values["user"]:
        if name.upper().startswith("S-1-"):
            clauses.append("AccountSid =~ %s" % kql_string(name))
        elif domain:
            clauses.append("(AccountName =~ %s and AccountDomain =~ %s)" % (kql_string(name), kql_string(domain)))
        else:
            clauses.append("AccountName =~ %s" % kql_string(name))
    outcome = "" if values.get("include_failed") == [True] else "\n| where ActionType == 'LogonSuccess'"
    return "\n".join(["DeviceLogonEvents", _since(days) + outcome, "| where " + " or ".join(clauses),
                      "| summarize FirstLogon = min(Timestamp), LastLogon = max(Timestamp), Logons = count() "
                      "by DeviceId, DeviceName, AccountDomain, AccountName, LogonType, ActionType",
                      "| order by LastLogon desc"])


def _flag(value):
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError("true or false")


_SHA1 = Param("sha1", _hash(40, "SHA-1"), "one SHA-1 or a list")
_SHA256 = Param("sha256", _hash(64, "SHA-256"), "one SHA-256 or a list")

HUNTS = dict((h.name, h) for h in (
    Hunt("devices_with_file",
         "Devices where a file was seen, by SHA-1 or SHA-256: created, run, or running another process "
         "(DeviceFileEvents and DeviceProcessEvents). Rows: DeviceId, DeviceName, FirstSeen, LastSeen, Events.",
         [_SHA1, _SHA256], _file_seen, one_of=("sha1", "sha256")),
    Hunt("processes_from_file",
         "Processes started from a file, by SHA-1, SHA-256 or file name (DeviceProcessEvents), newest first. Rows: "
         "Timestamp, DeviceId, DeviceName, FileName, FolderPath, SHA1, SHA256, ProcessId, ProcessCommandLine, "
         "AccountDomain, AccountName, InitiatingProcessFileName, InitiatingProcessCommandLine.",
         [_SHA1, _SHA256, Param("file_name", _file_name, "one file name or a list, compared case-insensitively")],
         _process_from_file, one_of=("sha1", "sha256", "file_name")),
    Hunt("devices_contacted_ip",
         "Devices that connected to an IP address (DeviceNetworkEvents RemoteIP). Rows: DeviceId, DeviceName, "
         "FirstSeen, LastSeen, Events.",
         [Param("ip", _ip, "one IP address or a list", required=True)], _contacted_ip),
    Hunt("devices_contacted_domain",
         "Devices that connected to a domain or its subdomains (DeviceNetworkEvents RemoteUrl has the domain). Rows: "
         "DeviceId, DeviceName, FirstSeen, LastSeen, Events.",
         [Param("domain", _domain, "one DNS domain or a list", required=True)], _contacted_domain),
    Hunt("devices_contacted_url",
         "Devices that connected to a URL (DeviceNetworkEvents RemoteUrl contains it, case-insensitively). Rows: "
         "DeviceId, DeviceName, FirstSeen, LastSeen, Events.",
         [Param("url", _url, "one URL or a list", required=True)], _contacted_url),
    Hunt("user_logons",
         "Where an account logged on (DeviceLogonEvents), by name (alice), DOMAIN\\name or SID; successful logons "
         "only unless include_failed. Rows: DeviceId, DeviceName, AccountDomain, AccountName, LogonType, ActionType, "
         "FirstLogon, LastLogon, Logons.",
         [Param("user", _user, "one account or a list: alice, CORP\\alice or a SID", required=True),
          Param("include_failed", _flag, "true to include failed logons", many=False)], _user_logons),
))


def hunt_query(name, parameters):
    """The KQL of a shipped hunt with these parameters, checked; DefenderInputError says what is wrong."""
    hunt = HUNTS.get(name)
    if hunt is None:
        raise DefenderInputError("There is no shipped hunt named %r; the hunts are %s." % (name, ", ".join(sorted(HUNTS))))
    if parameters is not None and not isinstance(parameters, dict):
        raise DefenderInputError("hunt_parameters must be a dict of parameter to value, such as {sha1: ...}.")
    return hunt.query(parameters)
