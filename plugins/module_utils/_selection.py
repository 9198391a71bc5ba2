# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: choosing devices by their properties, for the inventory plugin and the lookup.

The documented properties go into one OData $filter for one paged query. Tags have their own endpoint
(findbytag), one call per tag; a device is kept when it has any of the tags and matches the filter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError, DefenderNotFoundError
from ansible_collections.secops.defender.plugins.module_utils._odata import MACHINE_FILTERABLE, all_of, any_of, check_filter
from ansible_collections.secops.defender.plugins.module_utils._untrusted import MACHINE_ID, shaped

# The inventory plugin's and the lookup's own options (the connection options come from the auth fragment).
SELECTION_OPTIONS = ("filter", "tags", "tag_starts_with", "os_platforms", "health_status", "risk_scores",
                     "onboarding_status", "last_seen_within")
UNITS = {"m": 60, "h": 3600, "d": 86400}


def seconds(text):
    """'30m', '24h', '7d' (or a plain number of days) in seconds."""
    match = re.match(r"^\s*(\d+)\s*([mhd]?)\s*$", str(text))
    if not match:
        raise DefenderInputError("last_seen_within must look like 30m, 24h or 7d, not %r." % (text,))
    return int(match.group(1)) * UNITS[match.group(2) or "d"]


def odata_filter(options, now=None):
    """One $filter from the property options (and the user's own `filter`), or None."""
    since = None
    if options.get("last_seen_within"):
        moment = (now or time.time()) - seconds(options["last_seen_within"])
        since = "lastSeen ge %s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
    if options.get("filter"):
        check_filter(options["filter"], MACHINE_FILTERABLE)
    clauses = [
        "(%s)" % options["filter"] if options.get("filter") else None,
        any_of("osPlatform", options.get("os_platforms")),
        any_of("healthStatus", options.get("health_status")),
        any_of("riskScore", options.get("risk_scores")),
        any_of("onboardingStatus", [options["onboarding_status"]] if options.get("onboarding_status") else None),
        since,
    ]
    return all_of(*clauses)


def select_machines(client, options):
    """The Machine entities matching the options, each once, in the API's order."""
    query = odata_filter(options)
    try:
        machines = client.paged("/api/machines", {"$filter": query} if query else None)
    except DefenderNotFoundError:  # the API answers 404 when no device was seen lately
        machines = []
    tags = options.get("tags") or []
    if tags:
        tagged = set()
        starts = str(bool(options.get("tag_starts_with"))).lower()
        for tag in tags:
            page = client.get("/api/machines/findbytag", params={"tag": tag, "useStartsWithFilter": starts})
            tagged.update((m.get("id") or "").lower() for m in (page or {}).get("value", []))
        machines = [m for m in machines if (m.get("id") or "").lower() in tagged]
    seen, out = set(), []
    for machine in machines:
        # An id is put in URLs, file names and templates: one that is not 40 hex is not a device we can act on.
        key = shaped(MACHINE_ID, machine.get("id") if isinstance(machine, dict) else None)
        if key and key not in seen:
            seen.add(key)
            out.append(machine)
    return out
