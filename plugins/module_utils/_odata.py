# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: building OData $filter expressions safely."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError


def literal(value):
    """A quoted OData string literal; quotes inside are doubled, so a value can't change the filter."""
    return "'%s'" % str(value).replace("'", "''")


def eq(field, value):
    return "%s eq %s" % (field, literal(value))


def any_of(field, values):
    values = list(values or [])
    if not values:
        return None
    if len(values) == 1:
        return eq(field, values[0])
    return "(" + " or ".join(eq(field, v) for v in values) + ")"


# Values per `(field eq a or field eq b ...)` clause: each adds up to ~60 characters to the URL, which stays well
# under the 8 KB the API's front end accepts.
VALUES_PER_QUERY = 20


def in_chunks(values, size=VALUES_PER_QUERY):
    """`values` (a list) in slices of at most `size`, one list query each."""
    return [values[start:start + size] for start in range(0, len(values), size)]


def all_of(*clauses):
    return " and ".join(c for c in clauses if c) or None


# The properties the API filters on; anything else is refused with 400 ODataError. Machines: Microsoft Learn,
# "List machines API" (https://learn.microsoft.com/defender-endpoint/api/get-machines).
MACHINE_FILTERABLE = ("computerDnsName", "id", "version", "deviceValue", "aadDeviceId", "machineTags", "lastSeen",
                      "exposureLevel", "onboardingStatus", "lastIpAddress", "healthStatus", "osPlatform", "riskScore",
                      "rbacGroupId")
ACTION_FILTERABLE = ("id", "status", "machineId", "type", "requestor", "creationDateTimeUtc")
_KEYWORDS = ("and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null", "startswith",
             "endswith", "contains", "in", "any", "all")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./]*(?:\s*\(\s*[A-Za-z_]\w*\s*:)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]+Z?")


def filter_properties(text):
    """The property names a user's $filter uses (strings and dates skipped, any() variables not counted)."""
    bare = _DATE.sub(" ", _QUOTED.sub(" ", text or ""))
    names, bound = [], set()
    for match in _WORD.finditer(bare):
        word = match.group(0)
        if ":" in word:  # machineTags/any(tag: ...): the property is before /any, tag is a variable
            name, var = word.split("(", 1)
            bound.add(var.strip(" :").lower())
            word = name.strip()
        word = re.sub(r"/(any|all)$", "", word)
        if word.lower() in _KEYWORDS or word.lower() in bound or word[0].isdigit():
            continue
        if word not in names:
            names.append(word)
    return names


def check_filter(text, allowed, option="filter", entity="devices"):
    """Refuse, before anything is sent, a $filter that names a property the API does not filter on."""
    unknown = [name for name in filter_properties(text) if name.lower() not in set(a.lower() for a in allowed)]
    if unknown:
        raise DefenderInputError("%s names %s, which the API cannot filter %s on (it would answer 400 ODataError). "
                                 "Filterable: %s." % (option, ", ".join(unknown), entity, ", ".join(allowed)))
    return text
