# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: list indicators by type, value, action, severity and scope, for drift reports.

The criteria go to the API as one $filter (Microsoft Learn, "List Indicators API": eq, startswith, and/or on the
documented properties), values in slices of twenty per query; the scope criteria are matched here as well, so the
list is exactly what a purge with the same scope would consider.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderNotFoundError
from ansible_collections.secops.defender.plugins.module_utils._indicator_scope import INDICATOR_FILTERABLE, scope_from
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, check_filter, in_chunks

HEX = re.compile(r"^[0-9a-fA-F]{32,64}$")


def _values(values):
    """The values as the API keeps them: hashes in lower case (defender_indicator sends them so)."""
    out = []
    for value in values or []:
        text = (value or "").strip()
        out.append(text.lower() if HEX.match(text) else text)
    return out


def list_indicators(client, params, client_id=None):
    """The indicators that match `params` (the module's options), each once, in the API's order."""
    scope = scope_from(dict((k, params.get(k)) for k in ("title_prefix", "rbac_group_name", "application",
                                                         "created_by_this_app")), client_id, option="")
    if params.get("created_by"):
        scope.created_by = params["created_by"]
    odata = check_filter(params.get("filter"), INDICATOR_FILTERABLE, entity="indicators") if params.get("filter") \
        else None
    common = all_of(any_of("indicatorType", params.get("type")), any_of("action", params.get("action")),
                    any_of("severity", params.get("severity")),
                    "generateAlert eq %s" % str(params["generate_alert"]).lower()
                    if params.get("generate_alert") is not None else None,
                    scope.odata(), "(%s)" % odata if odata else None)
    values = _values(params.get("value"))
    found, seen = [], set()
    for chunk in in_chunks(values) if values else [None]:
        query = all_of(any_of("indicatorValue", chunk) if chunk else None, common)
        try:
            page = client.paged("/api/indicators", {"$filter": query} if query else None,
                                limit=params.get("limit"))
        except DefenderNotFoundError:
            page = []
        for entity in page:
            if entity.get("id") in seen or (not scope.empty() and not scope.matches(entity)):
                continue
            seen.add(entity.get("id"))
            found.append(entity)
    return found[:params["limit"]] if params.get("limit") else found
