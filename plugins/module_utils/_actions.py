# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the machine-action domain.

Submit without duplicates (look for an equal action first, and look again before re-sending a POST whose outcome
is unknown), wait until final, cancel, list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._clock import SYSTEM
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderApiError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, eq
from ansible_collections.secops.defender.plugins.module_utils._untrusted import GUID, shaped
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action
from ansible_collections.secops.defender.plugins.module_utils._waiter import Waiter, is_final

ACTIVE = ("Pending", "InProgress")


def check_guid(value, name="action_id"):
    checked = shaped(GUID, value)
    if checked is None:
        raise DefenderInputError("%s %r is not a GUID (like 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01)." % (name, value))
    return checked


def summary(action):
    """The few keys a playbook needs, beside the entity itself."""
    return {"action_id": action.get("id"), "status": action.get("status"), "machine_action": action}


class ActionService:
    def __init__(self, client):
        self.client = client
        # How waiting passes time: the client's clock (_clock.py), virtual in tests.
        self.clock = getattr(client, "clock", None) or SYSTEM

    def get(self, action_id):
        return Waiter(self.client).get(action_id)

    def list(self, machine_ids=None, types=None, statuses=None, requestor=None, odata_filter=None, limit=None):
        query = all_of(any_of("machineId", machine_ids), any_of("type", types), any_of("status", statuses),
                       eq("requestor", requestor) if requestor else None, odata_filter)
        return [api_action(a) for a in self.client.paged("/api/machineactions", {"$filter": query} if query else None,
                                                         limit=limit)]

    def wait(self, action, timeout, poll_interval, result=None, want="Succeeded"):
        """Wait (_waiter.Waiter) until the action is final. A final status other than `want` raises, and so does a
        wait that runs out, with `result` attached."""
        action = Waiter(self.client).wait([action], timeout, poll_interval)[0]
        if not is_final(action):
            raise DefenderActionError(
                "Action %s on %s is still %s after wait_timeout=%ss." % (
                    action["id"], action.get("computerDnsName") or action.get("machineId"), action["status"],
                    timeout),
                result=dict(result or {}, **summary(action)),
                hint="It goes on in Defender. Wait again with secops.defender.defender_machine_action_info, or "
                     "cancel it with secops.defender.defender_cancel_action.")
        if want and action["status"] != want:
            raise DefenderActionError(describe_failure(action), result=dict(result or {}, **summary(action)))
        return action

    def cancel(self, action, comment):
        """Cancel `action` (as just read) if it is not final. Returns (changed, action). A refusal because the
        action finished in the meantime is not an error: the action is read again and reported as it is."""
        if is_final(action):
            return False, action
        action_id = action["id"]
        try:
            return True, self.client.post("/api/machineactions/%s/cancel" % quote_segment(action_id),
                                          {"Comment": comment}, idempotent=True)
        except DefenderApiError as exc:
            if exc.status not in (400, 409):
                raise
            action = self.get(action_id)
            if is_final(action):
                return False, action
            raise


def describe_failure(action):
    errors = []
    for command in action.get("commands") or []:
        for error in command.get("errors") or []:
            errors.append("command %s (%s): %s" % (command.get("index"), (command.get("command") or {}).get("type"),
                                                   error))
    machine = action.get("computerDnsName") or action.get("machineId")
    text = "Action %s (%s) on %s ended %s" % (action.get("id"), action.get("type"), machine, action.get("status"))
    if action.get("status") == "TimeOut":
        text += "; the device did not pick it up in time (is it online?)"
    if action.get("status") == "Cancelled" and action.get("cancellationRequestor"):
        text += "; cancelled by %s: %s" % (action.get("cancellationRequestor"), action.get("cancellationComment"))
    if errors:
        text += ": " + "; ".join(errors)
    elif action.get("errorHResult"):
        text += " (errorHResult %s)" % action.get("errorHResult")
    return text + "."
