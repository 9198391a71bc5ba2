# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: finding machines by id, name, tag, IP or filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import MACHINE_FILTERABLE, check_filter, eq, literal
from ansible_collections.secops.defender.plugins.module_utils._untrusted import MACHINE_ID, shaped
from ansible_collections.secops.defender.plugins.module_utils._validate import (
    FINDBYIP_DAYS,
    api_machine_id,
    ip_address,
    utc_timestamp,
)

# Names per bulk query: each adds up to ~90 characters to the URL, which stays well under 8 KB.
NAMES_PER_QUERY = 40


def is_machine_id(value):
    """40 hex, in either case, exactly (callers strip what a user typed)."""
    return isinstance(value, str) and value == value.strip() and shaped(MACHINE_ID, value) is not None


def check_machine_id(machine_id, option="machine_id"):
    """A device id by shape (40 hex), lower-cased; a name or anything else is refused before it reaches a path."""
    if not is_machine_id((machine_id or "").strip()):
        raise DefenderInputError("%s %r is not a device id (40 hexadecimal characters). Use machine_name for a "
                                 "computer name." % (option, machine_id))
    return machine_id.strip().lower()


def target_list(machine_id=None, machine_name=None, machines=None):
    """The task's devices as (given, kind) pairs, kind "id" or "name", in order and without repeats."""
    if machine_id:
        return [(check_machine_id(machine_id), "id")]
    if machine_name:
        return [(machine_name.strip(), "name")]
    out, seen = [], set()
    for item in machines or []:
        text = (item or "").strip()
        if not text:
            raise DefenderInputError("machines has an empty item; every item is a device id or a computer name.")
        kind = "id" if is_machine_id(text) else "name"
        value = text.lower() if kind == "id" else text
        if value.lower() not in seen:
            seen.add(value.lower())
            out.append((value, kind))
    if not out:
        raise DefenderInputError("machines is empty; give at least one device id or computer name.")
    return out


def resolve_names(client, names):
    """Find many computer names with a few paged queries. Returns {name: [machine, ...]} for every name asked,
    matching the full DNS name, or for a short name (no dot) the DNS names that start with `name.`."""
    found = dict((n, []) for n in names)
    for start in range(0, len(names), NAMES_PER_QUERY):
        chunk = names[start:start + NAMES_PER_QUERY]
        clauses = []
        for name in chunk:
            clauses.append(eq("computerDnsName", name))
            if "." not in name:
                clauses.append("startswith(computerDnsName,%s)" % literal(name + "."))
        for machine in client.paged("/api/machines", {"$filter": " or ".join(clauses)}):
            api_machine_id(machine.get("id"), "id of machine %r" % machine.get("computerDnsName"))
            dns = (machine.get("computerDnsName") or "").lower()
            for name in chunk:
                lowered = name.lower()
                if dns == lowered or ("." not in name and dns.startswith(lowered + ".")):
                    if not any(m.get("id") == machine.get("id") for m in found[name]):
                        found[name].append(machine)
    for name, machines in found.items():
        # A full name wins over short-name matches (ws-1 and ws-1.corp.example.com both exist).
        exact = [m for m in machines if (m.get("computerDnsName") or "").lower() == name.lower()]
        if exact:
            found[name] = exact
    return found


def not_found_message(name):
    return ("No machine named %s in this tenant (looked for computerDnsName %s, and for %s.* as a short name)."
            % (name, name, name))


def ambiguous_message(name, machines):
    return "The name %s matches %d machines: %s. Pass the device id to choose one." % (
        name, len(machines), _summary(machines))


def _summary(machines):
    return ", ".join("%s (%s, last seen %s)" % (m.get("computerDnsName"), m.get("id"), m.get("lastSeen"))
                     for m in machines)


def get_by_id(client, machine_id):
    try:
        machine = client.get("/api/machines/%s" % quote_segment(machine_id))
    except DefenderNotFoundError as exc:
        exc.message = "No machine with id %s in this tenant." % machine_id
        exc.hint = "Check machine_id, or use machine_name."
        raise
    api_machine_id((machine or {}).get("id"), "id of machine %s" % machine_id)
    return machine


def find_by_name(client, name):
    """All machines whose computerDnsName is `name`, or starts with `name.` when given a short host name."""
    found = client.paged("/api/machines", {"$filter": eq("computerDnsName", name)})
    if not found and "." not in name:
        found = client.paged("/api/machines", {"$filter": "startswith(computerDnsName,%s)" % literal(name + ".")})
    return found


def resolve(client, machine_id=None, machine_name=None):
    """Exactly one machine for a task, or a clear error that lists what was found."""
    if machine_id:
        return get_by_id(client, machine_id)
    found = find_by_name(client, machine_name)
    if not found:
        raise DefenderInputError("No machine named %s in this tenant (looked for computerDnsName %s, and for %s.* "
                                 "as a short name)." % (machine_name, machine_name, machine_name),
                                 hint="Check the name, or pass machine_id.")
    if len(found) > 1:
        raise DefenderInputError("The name %s matches %d machines: %s." % (machine_name, len(found), _summary(found)),
                                 hint="Pass machine_id to choose one.")
    return found[0]


def search(client, machine_id=None, machine_name=None, tag=None, tag_starts_with=False, ip=None, timestamp=None,
           odata_filter=None, limit=None):
    """machine_info's search: the first criterion given decides the API call."""
    if machine_id:
        try:
            return [client.get("/api/machines/%s" % quote_segment(check_machine_id(machine_id)))]
        except DefenderNotFoundError:
            return []
    if machine_name:
        return find_by_name(client, machine_name)
    if tag:
        page = client.get("/api/machines/findbytag", params={"tag": tag,
                                                             "useStartsWithFilter": str(bool(tag_starts_with)).lower()})
        return (page or {}).get("value", [])
    if ip:
        # Both values are checked and rewritten by shape (an address; a UTC time within the API's 30 days), so
        # nothing the task gave is pasted into the path as it is.
        when = utc_timestamp(timestamp, max_age_days=FINDBYIP_DAYS)
        address = quote(literal(ip_address(ip)), safe="'")
        page = client.get("/api/machines/findbyip(ip=%s,timestamp=%s)" % (address, quote(when, safe=":")))
        return (page or {}).get("value", [])
    if odata_filter:
        check_filter(odata_filter, MACHINE_FILTERABLE)
    return client.paged("/api/machines", {"$filter": odata_filter} if odata_filter else None, limit=limit)
