# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: isolation and app restriction, as specs on the machine-action template.

Neither state shows on the Machine entity. The newest Isolate/Unisolate (RestrictCodeExecution/Unrestrict...)
action that is pending, running or succeeded is the device's state; a device that never had one is released.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._fleet import ActionSpec

ISOLATION_TYPES = ("Full", "Selective", "UnManagedDevice")
ISOLATION_PAIR = ("Isolate", "Unisolate")
RESTRICTION_PAIR = ("RestrictCodeExecution", "UnrestrictCodeExecution")

FULL_ISOLATION_PLATFORMS = "Windows 10 version 1703 or later, Windows 11 and Linux"
WINDOWS_1709_PLATFORMS = "Windows 10 version 1709 or later, and Windows 11"


def same_isolation_type(action, options):
    """An isolation of another type is not the one asked for. An action that does not say (no scope) counts as
    equal, so that an unknown answer never leads to a second isolation."""
    scope = action.get("scope")
    return not scope or scope.lower() == options["isolation_type"].lower()


def _comment(options):
    return {"Comment": options["comment"]}


ISOLATE = ActionSpec(
    action_type="Isolate", verb="isolate", permission="Machine.Isolate",
    body=lambda options: {"Comment": options["comment"], "IsolationType": options["isolation_type"]},
    equal=same_isolation_type, key=lambda options: options["isolation_type"], busy_types=ISOLATION_PAIR,
    state_types=ISOLATION_PAIR,
    platforms="%s (selective isolation: %s)" % (FULL_ISOLATION_PLATFORMS, WINDOWS_1709_PLATFORMS))

RELEASE_ISOLATION = ActionSpec(
    action_type="Unisolate", verb="unisolate", permission="Machine.Isolate", body=_comment,
    busy_types=ISOLATION_PAIR, state_types=ISOLATION_PAIR, settled_without_history=True,
    platforms=FULL_ISOLATION_PLATFORMS)

RESTRICT = ActionSpec(
    action_type="RestrictCodeExecution", verb="restrictCodeExecution", permission="Machine.RestrictExecution",
    body=_comment, busy_types=RESTRICTION_PAIR, state_types=RESTRICTION_PAIR, platforms=WINDOWS_1709_PLATFORMS)

UNRESTRICT = ActionSpec(
    action_type="UnrestrictCodeExecution", verb="unrestrictCodeExecution", permission="Machine.RestrictExecution",
    body=_comment, busy_types=RESTRICTION_PAIR, state_types=RESTRICTION_PAIR, settled_without_history=True,
    platforms=WINDOWS_1709_PLATFORMS)


def isolation(state, isolation_type, comment):
    """(spec, options) for state isolated|released."""
    if state == "released":
        return RELEASE_ISOLATION, {"comment": comment}
    return ISOLATE, {"comment": comment, "isolation_type": isolation_type}


def app_restriction(state, comment):
    """(spec, options) for state restricted|released."""
    return (UNRESTRICT if state == "released" else RESTRICT), {"comment": comment}
