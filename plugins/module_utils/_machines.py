# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: finding machines by id, name, tag, IP or filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._client import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import eq, literal

MACHINE_TARGET_SPEC = dict(
    machine_id=dict(type="str"),
    machine_name=dict(type="str"),
)
MACHINE_TARGET_KWARGS = dict(required_one_of=[("machine_id", "machine_name")],
                             mutually_exclusive=[("machine_id", "machine_name")])


def _summary(machines):
    return ", ".join("%s (%s, last seen %s)" % (m.get("computerDnsName"), m.get("id"), m.get("lastSeen"))
                     for m in machines)


def get_by_id(client, machine_id):
    try:
        return client.get("/api/machines/%s" % quote_segment(machine_id))
    except DefenderNotFoundError as exc:
        exc.message = "No machine with id %s in this tenant." % machine_id
        exc.hint = "Check machine_id, or use machine_name."
        raise


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
            return [client.get("/api/machines/%s" % quote_segment(machine_id))]
        except DefenderNotFoundError:
            return []
    if machine_name:
        return find_by_name(client, machine_name)
    if tag:
        page = client.get("/api/machines/findbytag", params={"tag": tag,
                                                             "useStartsWithFilter": str(bool(tag_starts_with)).lower()})
        return (page or {}).get("value", [])
    if ip:
        page = client.get("/api/machines/findbyip(ip=%s,timestamp=%s)" % (literal(ip), timestamp))
        return (page or {}).get("value", [])
    return client.paged("/api/machines", {"$filter": odata_filter} if odata_filter else None, limit=limit)
