# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: which indicators a scope names, for a purge and for defender_indicator_info.

A purge deletes the indicators of its scope that the list does not name, so the scope is matched here, on each
listed indicator, never left to a server-side filter alone: a filter the API ignored or read loosely could not
widen what is deleted. The info module sends the same criteria as a $filter and matches them here too, so it lists
exactly what a purge with that scope would consider.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, eq, literal

# Microsoft Learn, "List Indicators API" (https://learn.microsoft.com/defender-endpoint/api/get-ti-indicators-collection):
# $filter works on these properties.
INDICATOR_FILTERABLE = ("application", "createdByDisplayName", "expirationTime", "generateAlert", "title",
                        "rbacGroupNames", "rbacGroupIds", "indicatorValue", "indicatorType", "creationTimeDateTimeUtc",
                        "createdBy", "action", "severity")
SCOPE_OPTIONS = ("title_prefix", "rbac_group_name", "application", "created_by_this_app")

SCOPE_HOWTO = ("Name the indicators this list owns with purge_scope: title_prefix (every title starts with it, "
               "e.g. 'IaC: '), rbac_group_name (a device group every owned indicator is scoped to), application, "
               "or created_by_this_app: true (indicators whose createdBy is this task's client_id). Criteria given "
               "together must all match.")


class Scope:
    """Criteria that must all match. An empty Scope matches nothing (so it can never purge)."""

    def __init__(self, title_prefix=None, rbac_group_name=None, application=None, created_by=None):
        self.title_prefix = title_prefix or None
        self.rbac_group_name = rbac_group_name or None
        self.application = application or None
        self.created_by = created_by or None

    def empty(self):
        return not (self.title_prefix or self.rbac_group_name or self.application or self.created_by)

    def matches(self, entity):
        if self.empty():
            return False
        if self.title_prefix and not str(entity.get("title") or "").startswith(self.title_prefix):
            return False  # case-sensitive, stricter than OData's startswith: a purge errs on the side of keeping
        if self.rbac_group_name and self.rbac_group_name not in (entity.get("rbacGroupNames") or []):
            return False
        if self.application and entity.get("application") != self.application:
            return False
        if self.created_by and str(entity.get("createdBy") or "").lower() != self.created_by.lower():
            return False
        return True

    def odata(self):
        """The clauses the API can run ($filter); the device group is matched here only (Learn names rbacGroupNames
        as filterable, but not how a collection is compared)."""
        return all_of("startswith(title,%s)" % literal(self.title_prefix) if self.title_prefix else None,
                      eq("application", self.application) if self.application else None,
                      eq("createdBy", self.created_by) if self.created_by else None)

    def describe(self):
        parts = []
        if self.title_prefix:
            parts.append("title starting with %r" % self.title_prefix)
        if self.rbac_group_name:
            parts.append("device group %r" % self.rbac_group_name)
        if self.application:
            parts.append("application %r" % self.application)
        if self.created_by:
            parts.append("created by app %s" % self.created_by)
        return " and ".join(parts)


def scope_from(options, client_id=None, option="purge_scope."):
    """A Scope from the module's dict of SCOPE_OPTIONS; created_by_this_app needs the task's client_id."""
    options = options or {}
    created_by = None
    if options.get("created_by_this_app"):
        if not client_id:
            raise DefenderInputError("%screated_by_this_app compares createdBy with this task's client_id, and none "
                                     "is set (an access_token, or a managed identity without client_id). Set "
                                     "client_id, or name the scope another way.%s"
                                     % (option, " " + SCOPE_HOWTO if option else ""))
        created_by = client_id
    for key in ("title_prefix", "rbac_group_name", "application"):
        if options.get(key) is not None and not str(options[key]).strip():
            raise DefenderInputError("%s%s is empty; an empty criterion would match every indicator." % (option, key))
    return Scope(options.get("title_prefix"), options.get("rbac_group_name"), options.get("application"), created_by)


def purge_scope(purge, options, client_id=None, many=True):
    """The Scope a purge may delete in, or DefenderInputError before anything is sent."""
    if not purge:
        if options and any(options.get(k) for k in SCOPE_OPTIONS):
            raise DefenderInputError("purge_scope is set but purge is not; set purge: true to delete the indicators of "
                                     "the scope that the list does not name, or drop purge_scope.")
        return None
    if not many:
        raise DefenderInputError("purge: true needs the whole list in indicators (the list is what is kept); with "
                                 "value there is no list.")
    scope = scope_from(options, client_id)
    if scope.empty():
        raise DefenderInputError("purge: true was refused before anything was sent: without a scope it would delete "
                                 "every indicator the app can see that this list does not name, including ones this "
                                 "repository does not own. %s" % SCOPE_HOWTO)
    return scope
