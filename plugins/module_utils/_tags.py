# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: device tags as desired state, for one device or many.

Tags are not machine actions: they change at once and leave no action behind. So this is not a spec on the
fleet engine, but it follows the same path: resolve in bulk, read the current tags, check mode, write the
difference in as few calls as the API allows (one per tag and batch of 500 devices), one row per device.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderError,
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._results import DEVICES, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._machines import (
    ambiguous_message,
    get_by_id,
    not_found_message,
    resolve_names,
)

BATCH_MAX = 500          # AddOrRemoveTagForMultipleMachines takes at most 500 machine ids
READ_EACH_MAX = 10       # up to this many ids, read each device; beyond, list the tenant's devices once
TAG_MAX_LENGTH = 200


def check_tags(tags):
    cleaned = []
    for tag in tags or []:
        text = (tag or "").strip()
        if not text:
            raise DefenderInputError("tags must not contain empty values.")
        if len(text) > TAG_MAX_LENGTH:
            raise DefenderInputError("Tag %r is longer than %d characters." % (text[:40] + "...", TAG_MAX_LENGTH))
        if text not in cleaned:
            cleaned.append(text)
    if not cleaned:
        raise DefenderInputError("tags must name at least one tag.")
    return cleaned


class TagRow(ItemRow):
    """One device's line: its tags before and after, what was (or would be) added or removed."""

    def __init__(self, given, state="present", check_mode=False):
        super(TagRow, self).__init__()
        self.given = given
        self.machine = None
        self.state = state
        self.check_mode = check_mode
        self.to_change = []

    def fields(self):
        machine = self.machine or {}
        before = list(machine.get("machineTags") or [])
        after = before
        if not self.failed:
            after = ([t for t in before if t not in self.to_change] if self.state == "absent"
                     else before + [t for t in self.to_change if t not in before])
        self.changed = bool(self.to_change) and not self.failed
        if self.changed and self.check_mode:
            self.msg = "Would %s %s." % ("remove" if self.state == "absent" else "add", ", ".join(self.to_change))
        return {"machine": self.given, "machine_id": (machine.get("id") or "").lower() or None,
                "machine_name": machine.get("computerDnsName"), "tags_before": before, "tags": after,
                "added" if self.state == "present" else "removed": [] if self.failed else list(self.to_change)}


def read_machines(client, rows, ids):
    """Fill each id row with its Machine entity: a GET each for a few, one paged list of the tenant for many."""
    if len(ids) <= READ_EACH_MAX:
        for row in rows:
            if row.machine is None and row.given.lower() in ids:
                try:
                    row.machine = get_by_id(client, row.given)
                except DefenderError as exc:
                    row.fail(exc)
        return
    try:
        by_id = dict((m.get("id", "").lower(), m) for m in client.paged("/api/machines"))
    except DefenderNotFoundError:  # the API answers 404 when no device was seen lately
        by_id = {}
    for row in rows:
        if row.machine is None and row.given.lower() in ids:
            row.machine = by_id.get(row.given.lower())
            if row.machine is None:
                row.fail(DefenderNotFoundError("No machine with id %s in this tenant." % row.given,
                                               hint="Check the id, or give the device's computer name instead."))


def resolve(client, targets, state="present", check_mode=False):
    """One TagRow per (given, "id"|"name") target, with its Machine entity or its error."""
    rows = [TagRow(given, state, check_mode) for given, dummy in targets]
    ids = set(given.lower() for given, kind in targets if kind == "id")
    names = [given for given, kind in targets if kind == "name"]
    if names:
        found = resolve_names(client, names)
        for row in rows:
            if row.given in found:
                matches = found[row.given]
                if len(matches) == 1:
                    row.machine = matches[0]
                else:
                    row.fail(DefenderInputError(ambiguous_message(row.given, matches) if matches
                                                else not_found_message(row.given)))
    if ids:
        read_machines(client, rows, ids)
    return rows


def write(client, rows, tags, state, single):
    """Send the difference: per tag, one call per batch of up to 500 devices (or the one-device endpoint)."""
    action = "Remove" if state == "absent" else "Add"
    for tag in tags:
        needing = [r for r in rows if not r.failed and tag in r.to_change]
        if not needing:
            continue
        if single:
            try:
                client.post("/api/machines/%s/tags" % quote_segment(needing[0].machine["id"]),
                            {"Value": tag, "Action": action}, idempotent=True)
            except DefenderError as exc:
                needing[0].fail(exc)
            continue
        for start in range(0, len(needing), BATCH_MAX):
            batch = needing[start:start + BATCH_MAX]
            try:
                client.post("/api/machines/AddOrRemoveTagForMultipleMachines",
                            {"Value": tag, "Action": action, "MachineIds": [r.machine["id"] for r in batch]},
                            idempotent=True)
            except DefenderError as exc:
                for row in batch:
                    row.fail(exc)


def machine_tags(client, targets, tags, state="present", check_mode=False, single=True):
    """Make `tags` present on (or absent from) every target. Returns the TagRows."""
    rows = resolve(client, targets, state, check_mode)
    seen = set()
    for row in rows:
        if row.failed:
            continue
        key = row.machine["id"].lower()
        current = row.machine.get("machineTags") or []
        if key in seen:  # the same device given twice (by id and by name): act once
            row.msg = "The same device is listed more than once; it is acted on once."
            continue
        seen.add(key)
        row.to_change = [t for t in tags if (t in current) == (state == "absent")]
    if not check_mode:
        write(client, rows, tags, state, single)
    return rows


def tags_result(rows, single, fail_on_device_error=True, client=None):
    """The module result (_results.finish), or DefenderActionError carrying it."""
    results = [r.as_dict() for r in rows]
    changed = len([r for r in results if r["changed"]])
    failed = len([r for r in results if r["failed"]])
    summary = {"devices": len(results), "changed": changed, "unchanged": len(results) - changed - failed,
               "failed": failed}
    return finish(results, DEVICES, summary, single=single, top_keys=("machine_id", "machine_name", "tags"),
                  fail_on_error=fail_on_device_error, client=client)
