# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: device tags as desired state, for one device or many.

Tags are not machine actions: they change at once and leave no action behind. So this is not a spec on the
fleet engine, but it follows the same path: resolve in bulk, read the current tags, check mode, write the
difference in as few calls as the API allows (one per tag and batch of 500 devices), one row per device.
A purge makes `tags` the exclusive set within a managed scope (a prefix or a named set): other tags are never
removed, so a purge can never take off a tag this task does not manage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
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


def check_tags(tags, allow_empty=False, option="tags"):
    cleaned = []
    for tag in tags or []:
        text = (tag or "").strip()
        if not text:
            raise DefenderInputError("%s must not contain empty values." % option)
        if len(text) > TAG_MAX_LENGTH:
            raise DefenderInputError("Tag %r is longer than %d characters." % (text[:40] + "...", TAG_MAX_LENGTH))
        if text not in cleaned:
            cleaned.append(text)
    if not cleaned and not allow_empty:
        raise DefenderInputError("%s must name at least one tag." % option)
    return cleaned


class TagScope:
    """The tags a purge manages: those in `managed` or starting with `prefix` (case-sensitive, as tags compare)."""

    def __init__(self, managed=None, prefix=None):
        self.managed = list(managed or [])
        self.prefix = prefix or None

    def manages(self, tag):
        return tag in self.managed or bool(self.prefix and tag.startswith(self.prefix))


def purge_scope(purge, state, managed_tags, tag_prefix):
    """The TagScope of a purge, or None; DefenderInputError before anything is sent when it has none."""
    if not purge:
        if managed_tags or tag_prefix:
            raise DefenderInputError("managed_tags and tag_prefix only scope a purge; set purge: true to remove the "
                                     "managed tags that tags does not name, or drop them.")
        return None
    if state != "present":
        raise DefenderInputError("purge: true makes tags the exclusive set of managed tags, so it needs state: present "
                                 "(to remove tags, list them with state: absent).")
    managed = check_tags(managed_tags, allow_empty=True, option="managed_tags")
    if tag_prefix is not None and not tag_prefix.strip():
        raise DefenderInputError("tag_prefix is empty; an empty prefix would manage every tag.")
    if not managed and not tag_prefix:
        raise DefenderInputError("purge: true was refused before anything was sent: without a scope it would remove "
                                 "every tag that tags does not name, including tags others set (device groups, "
                                 "other teams' automation). Name the tags this task manages: tag_prefix (for example "
                                 "'iac-') or managed_tags (the full set it may remove).")
    return TagScope(managed, tag_prefix)


class TagRow(ItemRow):
    """One device's line: its tags before and after, what was (or would be) added or removed."""

    def __init__(self, given, state="present", check_mode=False, purge=False):
        super(TagRow, self).__init__()
        self.given = given
        self.machine = None
        self.state = state
        self.check_mode = check_mode
        self.purge = purge
        self.to_add = []
        self.to_remove = []

    def before(self):
        return list((self.machine or {}).get("machineTags") or [])

    def after(self):
        before = self.before()
        if self.failed:
            return before
        return [t for t in before if t not in self.to_remove] + [t for t in self.to_add if t not in before]

    def label(self):
        machine = self.machine or {}
        return machine.get("computerDnsName") or (machine.get("id") or self.given).lower()

    def fields(self):
        machine = self.machine or {}
        self.changed = bool(self.to_add or self.to_remove) and not self.failed
        if self.changed and self.check_mode:
            self.msg = "Would %s." % "; ".join(
                "%s %s" % (verb, ", ".join(tags)) for verb, tags in (("add", self.to_add), ("remove", self.to_remove))
                if tags)
        row = {"machine": self.given, "machine_id": (machine.get("id") or "").lower() or None,
               "machine_name": machine.get("computerDnsName"), "tags_before": self.before(), "tags": self.after()}
        if self.state == "present":
            row["added"] = [] if self.failed else list(self.to_add)
        if self.state == "absent" or self.purge:
            row["removed"] = [] if self.failed else list(self.to_remove)
        return row


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


def resolve(client, targets, state="present", check_mode=False, purge=False):
    """One TagRow per (given, "id"|"name") target, with its Machine entity or its error."""
    rows = [TagRow(given, state, check_mode, purge) for given, dummy in targets]
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


def write(client, rows, single):
    """Send the difference: per tag and action, one call per batch of up to 500 devices (or the one-device
    endpoint)."""
    for action, wanted in (("Remove", "to_remove"), ("Add", "to_add")):
        tags = []
        for row in rows:
            tags.extend(t for t in getattr(row, wanted) if t not in tags)
        for tag in tags:
            needing = [r for r in rows if not r.failed and tag in getattr(r, wanted)]
            if needing:
                _send(client, needing, tag, action, single)


def _send(client, needing, tag, action, single):
    if single:
        try:
            client.post("/api/machines/%s/tags" % quote_segment(needing[0].machine["id"]),
                        {"Value": tag, "Action": action}, idempotent=True)
        except DefenderError as exc:
            needing[0].fail(exc)
        return
    for start in range(0, len(needing), BATCH_MAX):
        batch = needing[start:start + BATCH_MAX]
        try:
            client.post("/api/machines/AddOrRemoveTagForMultipleMachines",
                        {"Value": tag, "Action": action, "MachineIds": [r.machine["id"] for r in batch]},
                        idempotent=True)
        except DefenderError as exc:
            for row in batch:
                row.fail(exc)


def machine_tags(client, targets, tags, state="present", check_mode=False, single=True, scope=None):
    """Make `tags` present on (or absent from) every target; with a TagScope (a purge), also remove the managed
    tags `tags` does not name. Returns the TagRows."""
    rows = resolve(client, targets, state, check_mode, purge=scope is not None)
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
        if state == "absent":
            row.to_remove = [t for t in tags if t in current]
        else:
            row.to_add = [t for t in tags if t not in current]
            if scope is not None:
                row.to_remove = [t for t in current if scope.manages(t) and t not in tags]
    if not check_mode:
        write(client, rows, single)
    return rows


def tags_diff(rows):
    """--diff: each device that changes, by name, with its tags before and after."""
    changing = [r for r in rows if r.changed]
    return {"before": dict((r.label(), r.before()) for r in changing),
            "after": dict((r.label(), r.after()) for r in changing)}


def tags_result(rows, single, fail_on_device_error=True, client=None, with_diff=False):
    """The module result (_results.finish), or DefenderActionError carrying it."""
    results = [r.as_dict() for r in rows]
    changed = len([r for r in results if r["changed"]])
    failed = len([r for r in results if r["failed"]])
    summary = {"devices": len(results), "changed": changed, "unchanged": len(results) - changed - failed,
               "failed": failed}
    try:
        done = finish(results, DEVICES, summary, single=single, top_keys=("machine_id", "machine_name", "tags"),
                      fail_on_error=fail_on_device_error, client=client)
    except DefenderActionError as exc:
        if with_diff:
            exc.result["diff"] = tags_diff(rows)
        raise
    if with_diff:
        done["diff"] = tags_diff(rows)
    return done
