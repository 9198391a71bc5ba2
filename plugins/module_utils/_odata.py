# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: building OData $filter expressions safely."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


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


def all_of(*clauses):
    return " and ".join(c for c in clauses if c) or None
