# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: isolation and app restriction as desired states (their specs are in _specs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._specs import (
    ISOLATE,
    RELEASE_ISOLATION,
    RESTRICT,
    UNRESTRICT,
)

ISOLATION_TYPES = ("Full", "Selective", "UnManagedDevice")


def isolation(state, isolation_type, comment):
    """(spec, options) for state isolated|released."""
    if state == "released":
        return RELEASE_ISOLATION, {"comment": comment}
    return ISOLATE, {"comment": comment, "isolation_type": isolation_type}


def app_restriction(state, comment):
    """(spec, options) for state restricted|released."""
    return (UNRESTRICT if state == "released" else RESTRICT), {"comment": comment}
