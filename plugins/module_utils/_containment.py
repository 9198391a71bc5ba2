# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: isolation and app restriction as desired states (their specs are in _specs), and
their --diff: per device, the state it was in and the one asked for (check mode) or reached."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._actions import ACTIVE
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._specs import (
    COUNTS_AS_DONE,
    ISOLATE,
    RELEASE_ISOLATION,
    RESTRICT,
    UNRESTRICT,
)

ISOLATION_TYPES = ("Full", "Selective", "UnManagedDevice")
RELEASED = "released"


def isolation(state, isolation_type, comment):
    """(spec, options) for state isolated|released."""
    if state == "released":
        return RELEASE_ISOLATION, {"comment": comment}
    return ISOLATE, {"comment": comment, "isolation_type": isolation_type}


def app_restriction(state, comment):
    """(spec, options) for state restricted|released."""
    return (UNRESTRICT if state == "released" else RESTRICT), {"comment": comment}


def isolation_state(action):
    """The isolation an action (the device's newest Isolate/Unisolate that counts, or None) puts the device in."""
    if action is None or action.get("type") != "Isolate":
        return _pending(RELEASED, action)
    scope = action.get("scope")
    return _pending("isolated (%s)" % scope if scope else "isolated", action)


def restriction_state(action):
    """The app restriction an action (RestrictCodeExecution/Unrestrict..., or None) puts the device in."""
    if action is None or action.get("type") != "RestrictCodeExecution":
        return _pending(RELEASED, action)
    return _pending("restricted", action)


def _pending(state, action):
    # A pending action already counts as the state (a second one would be refused), but --diff says it is not there.
    return "%s, %s" % (state, action["status"].lower()) if action and action.get("status") in ACTIVE else state


def device_diff(rows, states, describe, wanted, check_mode, label):
    """{before, after, headers}: per device (as given, as the playbook's list names it), the state before the task,
    and in check mode the one a submission would give, for real the one its action gave. A device whose action
    failed stays as it was; one that failed before it had an action (unknown, ambiguous, refused) is left to the
    results, as its state is not known."""
    before, after = {}, {}
    for row in rows:
        if not row.machine_id or (row.failed and row.action is None):
            continue
        key = row.given
        was = describe(states.get(row.machine_id))
        before[key] = was
        if check_mode:
            after[key] = wanted if row.changed and not row.failed else was
        elif row.action is not None and row.action.get("status") in COUNTS_AS_DONE:
            after[key] = describe(row.action)
        else:
            after[key] = was
    return {"before": before, "after": after, "before_header": "%s before" % label,
            "after_header": "%s %s" % (label, "asked for (check mode)" if check_mode else "after")}


def containment_result(module, spec, options, describe, wanted, label):
    """Run the containment spec on the task's devices (DefenderModule.action_result), with a diff in diff mode."""
    diff = None
    if module._diff:
        def diff(rows, states):
            return device_diff(rows, states, describe, wanted, module.check_mode, label)
    return run_action(module.client, spec, options, module.fleet_request(), diff=diff)
