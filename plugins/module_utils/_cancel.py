# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: cancelling many machine actions in one task.

The actions are read with one list query per 20 ids (not a GET each; the API filters actions by id), the open
ones are cancelled concurrently (one POST each: the API has no batch cancel, see
https://learn.microsoft.com/en-us/defender-endpoint/api/cancel-machine-action), and the wait polls one list query
for all of them (_waiter.py). One row per action (_results.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService, check_guid, is_final
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderError
from ansible_collections.secops.defender.plugins.module_utils._odata import any_of, in_chunks
from ansible_collections.secops.defender.plugins.module_utils._results import ACTIONS, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._waiter import Waiter


class CancelRow(ItemRow):
    def __init__(self, action_id):
        super(CancelRow, self).__init__()
        self.action_id = action_id
        self.before = None
        self.action = None

    def fields(self):
        action = self.action or self.before or {}
        return {"action_id": self.action_id, "machine_id": (action.get("machineId") or "").lower() or None,
                "machine_name": action.get("computerDnsName"), "type": action.get("type"),
                "previous_status": (self.before or {}).get("status"), "status": action.get("status")}


def read_actions(client, action_ids):
    """{id: action} for these ids, one list query per VALUES_PER_QUERY ids."""
    service = ActionService(client)
    found = {}
    for chunk in in_chunks(action_ids):
        for action in service.list(odata_filter=any_of("id", chunk)):
            found[action["id"].lower()] = action
    return found


def cancel_actions(client, action_ids, comment, check_mode=False, wait=False, wait_timeout=300, poll_interval=5,
                   fail_on_action_error=True, concurrency=10):
    """Cancel every open action of `action_ids`; the module result (or DefenderActionError carrying it)."""
    ids = []
    for value in action_ids:
        checked = check_guid(value, "action_ids item")
        if checked not in ids:
            ids.append(checked)
    rows = [CancelRow(i) for i in ids]
    found = read_actions(client, ids)
    for row in rows:
        row.before = row.action = found.get(row.action_id)
        if row.before is None:
            row.fail(DefenderError("No machine action with id %s in this tenant." % row.action_id, code="NotFound",
                                   hint="Check the id. Live response sessions started from the portal are not "
                                        "visible through the API."))
    open_rows = [r for r in rows if not r.failed and not is_final(r.before)]
    if check_mode:
        for row in open_rows:
            row.changed, row.msg = True, "Would cancel this %s action." % row.before.get("status")
    else:
        service = ActionService(client)

        def cancel(row):
            try:
                row.changed, row.action = service.cancel(row.before, comment)
            except DefenderError as exc:
                row.fail(exc)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            list(pool.map(cancel, open_rows))
        cancelled = [r for r in open_rows if r.changed and not r.failed]
        if wait and cancelled:
            ended = Waiter(client).wait([r.action for r in cancelled], wait_timeout, poll_interval)
            for row, action in zip(cancelled, ended):
                row.action = action
                if action.get("status") != "Cancelled":
                    row.fail(DefenderActionError("Action %s on %s is %s after the cancel%s." % (
                        action["id"], action.get("computerDnsName") or action.get("machineId"), action["status"],
                        "" if is_final(action) else " and wait_timeout=%ss" % wait_timeout)))
    results = [r.as_dict() for r in rows]
    summary = {"actions": len(results), "failed": len([r for r in results if r["failed"]]),
               "cancelled": len([r for r in results if r["changed"] and not r["failed"] and not check_mode]),
               "would_cancel": len([r for r in results if r["changed"] and check_mode]),
               "already_final": len([r for r in results if not r["changed"] and not r["failed"]])}
    return finish(results, ACTIONS, summary, fail_on_error=fail_on_action_error, client=client)
