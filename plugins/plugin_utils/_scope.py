# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what the scope_devices filter does.

The pivots (defender_file_info, defender_domain_info, defender_ip_info, defender_user_info) return `machines`, each
with the entities that found it; advanced hunting returns rows with DeviceId and DeviceName per query. This makes
one list of devices from any of them, each once, with every route that found it, ready for `machines:`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe

# A device id is put in URLs and file names: anything else in a row (a hostile API, a query's typo) is left out.
_MACHINE_ID = re.compile(r"^[0-9a-fA-F]{40}$")


def _text(value):
    return u"" if value is None else u"%s" % (value,)


def _column(row, name):
    """A row's value for `name`, whatever the case of the column (KQL keeps the case a query gives)."""
    for key, value in row.items():
        if _text(key).lower() == name.lower():
            return value
    return None


def _pivot_rows(route, result):
    """(machine id, machine name, [how found]) for each device of one registered result."""
    if not isinstance(result, Mapping) or result.get("skipped"):
        return
    machines = result.get("machines")
    if isinstance(machines, Sequence) and not isinstance(machines, (str, bytes)) and machines and \
            isinstance(machines[0], Mapping) and "machine_id" in machines[0]:
        for machine in machines:
            found_by = machine.get("found_by") or []
            yield (machine.get("machine_id"), machine.get("machine_name"),
                   [u"%s %s" % (route, _text(entity)) for entity in found_by] or [route])
        return
    for query in result.get("results") or []:
        if not isinstance(query, Mapping):
            continue
        label = query.get("hunt") or u"query %s" % _text(query.get("index"))
        for row in query.get("results") or []:
            if isinstance(row, Mapping):
                yield _column(row, "DeviceId"), _column(row, "DeviceName"), [u"%s %s" % (route, _text(label))]


def scope_devices(pivots):
    """One row per device found by any pivot: {machine_id, machine_name, found_by}, in the order first found."""
    if isinstance(pivots, Mapping):
        items = list(pivots.items())
    elif isinstance(pivots, Sequence) and not isinstance(pivots, (str, bytes)):
        items = [(u"pivot %d" % index, result) for index, result in enumerate(pivots)]
    else:
        raise AnsibleFilterError("scope_devices takes a dictionary of route name to registered result (or a list of "
                                 "results), not %s." % type(pivots).__name__)
    devices, order = {}, []
    for route, result in items:
        for machine_id, name, found_by in _pivot_rows(_text(route), result):
            machine_id = _text(machine_id)
            if not _MACHINE_ID.match(machine_id):
                continue
            key = machine_id.lower()
            if key not in devices:
                devices[key] = {"machine_id": key, "machine_name": None, "found_by": []}
                order.append(key)
            device = devices[key]
            if not device["machine_name"] and name:
                device["machine_name"] = _text(name)
            for how in found_by:
                if how not in device["found_by"]:
                    device["found_by"].append(how)
    return make_unsafe([devices[key] for key in order])


def scope_lines(devices):
    """One readable line per row of scope_devices: the name (or id), the id, and every route that found it."""
    lines = [u"%s (%s): found by %s" % (d.get("machine_name") or d.get("machine_id"), d.get("machine_id"),
                                        u", ".join(d.get("found_by") or []))
             for d in devices or [] if isinstance(d, Mapping)]
    return make_unsafe(lines or [u"No device was found."])
