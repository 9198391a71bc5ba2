# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: stop and quarantine a file by SHA-1, without duplicates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._actions import ACTIVE, ActionService, summary
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._machines import resolve

SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
COUNTS_AS_DONE = ACTIVE + ("Succeeded",)


def normalise_sha1(value):
    text = (value or "").strip()
    if not SHA1.match(text):
        hint = ""
        if re.match(r"^[0-9a-fA-F]{64}$", text):
            hint = " That looks like a SHA-256; the API stops and quarantines by SHA-1 only."
        elif re.match(r"^[0-9a-fA-F]{32}$", text):
            hint = " That looks like an MD5; the API stops and quarantines by SHA-1 only."
        raise DefenderInputError("sha1 %r is not a SHA-1 (40 hexadecimal characters).%s" % (value, hint))
    return text.lower()


def find_equal(actions, machine_id, sha1):
    """The newest StopAndQuarantineFile for this file on this machine that is pending, running or succeeded.
    Failed, TimeOut and Cancelled ones don't count: asking again is the right thing then."""
    matches = [a for a in actions
               if a.get("type") == "StopAndQuarantineFile"
               and (a.get("machineId") or "").lower() == machine_id.lower()
               and ((a.get("relatedFileInfo") or {}).get("fileIdentifier") or "").lower() == sha1
               and a.get("status") in COUNTS_AS_DONE]
    matches.sort(key=lambda a: a.get("creationDateTimeUtc") or "", reverse=True)
    return matches[0] if matches else None


def run(client, params, check_mode):
    sha1 = normalise_sha1(params["sha1"])
    machine = resolve(client, params.get("machine_id"), params.get("machine_name"))
    service = ActionService(client)

    def matching(exclude=()):
        # Only statuses that count are asked for, so a device with a long history costs one small page.
        actions = service.list(machine_ids=[machine["id"]], types=["StopAndQuarantineFile"],
                               statuses=list(COUNTS_AS_DONE))
        return find_equal([a for a in actions if a.get("id") not in exclude], machine["id"], sha1)

    # With force, equal actions from before don't count, even when looking for the outcome of our own POST.
    before = set()
    if params["force"]:
        before = set(a["id"] for a in service.list(machine_ids=[machine["id"]], types=["StopAndQuarantineFile"],
                                                   statuses=list(COUNTS_AS_DONE)))
    existing = None if params["force"] else matching()
    result = {"machine_id": machine["id"], "machine_name": machine.get("computerDnsName"), "sha1": sha1}
    if existing is not None:
        result.update(summary(existing), changed=False)
        action = existing
    elif check_mode:
        result.update(changed=True, action_id=None, status=None, machine_action=None)
        return result
    else:
        action = service.submit(machine["id"], "StopAndQuarantineFile",
                                {"Comment": params["comment"], "Sha1": sha1}, lambda: matching(before))
        result.update(summary(action), changed=True)
    if params["wait"] and not check_mode:
        action = service.wait(action, params["wait_timeout"], params["poll_interval"], result=result)
        result.update(summary(action))
    return result
