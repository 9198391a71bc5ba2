# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: indicators (custom IoCs) as desired state, one or many.

Current indicators are read with one filtered query for a few values, or one paged list for many (and always for a
purge, which must see every indicator in its scope). What must be written goes out as one POST (submit-or-update)
for a single indicator, or through the import endpoint in batches of 500. What must go is deleted with BatchDelete
in batches of 500; one indicator alone takes one DELETE (the general rate class, not BatchDelete's 30 a minute).
A purge deletes only what its scope (_purge.PurgeScope) says the list owns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re
import time

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderForbiddenError,
    DefenderInputError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._results import INDICATORS, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._odata import any_of
from ansible_collections.secops.defender.plugins.module_utils._times import EARLIEST, instant

TYPES = ("FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint", "IpAddress", "DomainName", "Url")
ACTIONS = ("Alert", "Warn", "Block", "Audit", "BlockAndRemediate", "AlertAndBlock", "Allowed")
SEVERITIES = ("Informational", "Low", "Medium", "High")
HEX_LENGTH = {"FileSha1": 40, "FileSha256": 64, "FileMd5": 32, "CertificateThumbprint": 40}
IMPORT_MAX = 500
BATCH_DELETE_MAX = 500    # Learn, "Batch Delete Indicators": up to 500 ids a call
QUERY_VALUES_MAX = 20     # up to this many values, one filtered query; beyond, one paged list of all
# What the module compares, as (option, API field). Options left unset are not compared: they stay as they are.
FIELDS = (("action", "action"), ("title", "title"), ("description", "description"), ("severity", "severity"),
          ("expiration", "expirationTime"), ("generate_alert", "generateAlert"),
          ("rbac_group_names", "rbacGroupNames"), ("recommended_actions", "recommendedActions"),
          ("application", "application"))
OPTION_KEYS = ("value", "type") + tuple(f[0] for f in FIELDS) + ("state",)
# What the API takes only when it creates an indicator. Microsoft Learn, "Submit or Update Indicator API":
# application "only works for new indicators. It doesn't update the value on an existing indicator."
CREATE_ONLY = ("application",)


def infer_type(value):
    """The indicator type a value can only be; None when it could be more than one (40 hex: SHA-1 or a
    certificate thumbprint)."""
    text = value.strip()
    if re.match(r"^[0-9a-fA-F]{64}$", text):
        return "FileSha256"
    if re.match(r"^[0-9a-fA-F]{32}$", text):
        return "FileMd5"
    if re.match(r"^[0-9a-fA-F]{40}$", text):
        return None
    if re.match(r"^https?://", text, re.IGNORECASE):
        return "Url"
    try:
        ipaddress.ip_address(text)
        return "IpAddress"
    except ValueError:
        pass
    if re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", text):
        return "DomainName"
    return None


def check(item):
    """One indicator's options, complete and checked; raises DefenderInputError naming the value."""
    value = (item.get("value") or "").strip()
    if not value:
        raise DefenderInputError("Every indicator needs a value.")
    if "/" in value and not value.lower().startswith(("http://", "https://")):
        raise DefenderInputError("%s: CIDR ranges are not supported by the API; give single addresses." % value)
    kind = item.get("type") or infer_type(value)
    if kind is None:
        hint = (" 40 hexadecimal characters can be a FileSha1 or a CertificateThumbprint."
                if re.match(r"^[0-9a-fA-F]{40}$", value) else "")
        raise DefenderInputError("%s: set type; it cannot be told from the value.%s" % (value, hint))
    if kind in HEX_LENGTH:
        if not re.match(r"^[0-9a-fA-F]{%d}$" % HEX_LENGTH[kind], value):
            raise DefenderInputError("%s is not a %s (%d hexadecimal characters)." % (value, kind, HEX_LENGTH[kind]))
        value = value.lower()
    checked = dict(item, value=value, type=kind, state=item.get("state") or "present")
    if checked["state"] == "present":
        for required in ("action", "title", "description"):
            if not checked.get(required):
                raise DefenderInputError("%s: %s is required for an indicator that should be present." % (value,
                                                                                                          required))
        if checked["action"] == "Audit" and checked.get("generate_alert") is not True:
            raise DefenderInputError("%s: an Audit indicator needs generate_alert: true (the API refuses it "
                                     "otherwise)." % value)
    if checked.get("expiration") is not None and not _is_utc_time(str(checked["expiration"])):
        raise DefenderInputError("%s: expiration %r is not an ISO 8601 time in UTC; write it like "
                                 "2027-12-31T00:00:00Z." % (value, checked["expiration"]))
    return checked


def _is_utc_time(text):
    if instant(text) == EARLIEST:
        return False
    try:  # instant() reads the form; this refuses a 13th month or a 31st of June
        datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def has_passed(expiration):
    """Whether an expiration (as check() let it through) is already behind us."""
    return instant(str(expiration)) <= int(time.time() * 10 ** 7)


def body(item):
    out = {"indicatorValue": item["value"], "indicatorType": item["type"]}
    for option, field in FIELDS:
        if item.get(option) is not None:
            out[field] = item[option]
    return out


def differences(item, current, create_only=False):
    """The options whose wanted value differs from the indicator as it is: those an update can change, or with
    `create_only` those only a new indicator takes (CREATE_ONLY)."""
    out = []
    for option, field in FIELDS:
        wanted = item.get(option)
        if wanted is None or (option in CREATE_ONLY) != create_only:
            continue
        have = current.get(field)
        if option == "rbac_group_names":
            same = sorted(wanted) == sorted(have or [])
        elif option == "expiration":
            # by instant: 2026-12-01T00:00:00Z equals 2026-12-01T00:00:00.000Z (check() let only such times in)
            same = instant(str(wanted)) == instant(have)
        else:
            same = wanted == have
        if not same:
            out.append(option)
    return out


def read_current(client, items, everything=False):
    """(the list read, {(value lower, type): the indicator}) for the items' values; `everything` (a purge) reads
    every indicator the app can see, one paged list."""
    values = sorted(set(i["value"] for i in items))
    few = values and len(values) <= QUERY_VALUES_MAX and not everything
    params = {"$filter": any_of("indicatorValue", values)} if few else None
    try:
        found = client.paged("/api/indicators", params)
    except DefenderNotFoundError:
        found = []
    return found, dict((_key_of(e), e) for e in found)


def _key_of(entity):
    return (str(entity.get("indicatorValue", "")).lower(), entity.get("indicatorType"))


def as_options(entity):
    """An indicator as the module's options name it (for a diff)."""
    out = {"value": entity.get("indicatorValue"), "type": entity.get("indicatorType"), "id": entity.get("id")}
    out.update((option, entity.get(field)) for option, field in FIELDS)
    return out


class IndicatorRow(ItemRow):
    """One indicator's line: its outcome (created, updated, deleted, unchanged, failed) and what changed."""

    def __init__(self, item, current, check_mode=False, purged=False):
        super(IndicatorRow, self).__init__()
        self.item = item
        self.purged = purged   # deleted by purge: in the scope, not in the list
        self.current = current
        self.check_mode = check_mode
        self.changes = []
        self.kept = []   # create-only options that differ on an existing indicator: the API keeps its value
        self.outcome = "unchanged"
        self.entity = current

    def plan(self):
        if self.item["state"] == "absent":
            self.outcome = "deleted" if self.current else "unchanged"
        elif self.current is None:
            self.outcome = "created"
        else:
            self.changes = differences(self.item, self.current)
            self.kept = differences(self.item, self.current, create_only=True)
            self.outcome = "updated" if self.changes else "unchanged"

    def warning(self):
        """What the task should say about this indicator, or None: create-only options it cannot change, and an
        expiration already passed that it writes (never refused: in a repository of desired state the date passes
        on its own, and a rerun that changes nothing says nothing)."""
        if self.failed:
            return None
        said = []
        if self.kept:
            said.append("Indicator %s (%s) keeps its %s: the API sets %s only when it creates an indicator. Delete "
                        "the indicator (state=absent) and create it again to change it." % (
                            self.item["value"], self.item["type"],
                            ", ".join("%s %r" % (o, (self.current or {}).get(dict(FIELDS)[o])) for o in self.kept),
                            " and ".join(self.kept)))
        writes_expiration = self.outcome == "created" or (self.outcome == "updated" and "expiration" in self.changes)
        if writes_expiration and self.item.get("expiration") and has_passed(self.item["expiration"]):
            said.append("Indicator %s (%s) %s with an expiration that has passed (%s), so it has expired already. "
                        "Set a later expiration, or leave it out for none." % (
                            self.item["value"], self.item["type"],
                            "would be " + self.outcome if self.check_mode else "is " + self.outcome,
                            self.item["expiration"]))
        return " ".join(said) or None

    def fields(self):
        entity = self.entity or {}
        self.changed = self.outcome != "unchanged" and not self.failed
        if self.check_mode and self.changed:
            self.msg = "Would be %s%s." % (self.outcome, " (purge)" if self.purged else "")
        row = {"value": self.item["value"], "type": self.item["type"], "state": self.item["state"],
               "id": entity.get("id"), "outcome": self.outcome if not self.failed else "failed",
               "changes": self.changes, "kept": self.kept, "purged": self.purged}
        if entity and self.item["state"] == "present" and not self.failed:
            row["indicator"] = entity
        return row

    def diff(self):
        """(before, after) of this indicator for --diff, None for what does not change: the options that change
        for an update, the whole indicator when it is created or deleted."""
        if self.failed or self.outcome == "unchanged":
            return None
        if self.outcome == "created":
            return None, dict((k, v) for k, v in self.item.items() if v is not None and k != "state")
        if self.outcome == "deleted":
            return as_options(self.current), None
        have = as_options(self.current)
        return (dict((o, have[o]) for o in self.changes), dict((o, self.item[o]) for o in self.changes))

    def label(self):
        return "%s (%s)" % (self.item["value"], self.item["type"])


def plan_purge(found, items, scope, check_mode=False):
    """A row to delete for each listed indicator in `scope` that `items` does not name."""
    named = set((i["value"].lower(), i["type"]) for i in items)
    rows = []
    for entity in found:
        if _key_of(entity) in named or not scope.matches(entity):
            continue
        item = {"value": entity.get("indicatorValue"), "type": entity.get("indicatorType"), "state": "absent"}
        rows.append(IndicatorRow(item, entity, check_mode, purged=True))
    return rows


def apply(client, items, check_mode=False, scope=None):
    """Make every item so, and with a `scope` (a purge) delete what it holds that the items do not name. Returns
    IndicatorRows: the items in the order given, then the purged ones."""
    if not items and scope is None:
        return []
    found, current = read_current(client, items, everything=scope is not None)
    rows = [IndicatorRow(i, current.get((i["value"].lower(), i["type"])), check_mode) for i in items]
    if scope is not None:
        rows.extend(plan_purge(found, items, scope, check_mode))
    for row in rows:
        row.plan()
    if check_mode:
        return rows
    writes = [r for r in rows if r.outcome in ("created", "updated")]
    if len(writes) == 1:
        _submit_one(client, writes[0])
    elif writes:
        _import(client, writes)
    delete(client, [r for r in rows if r.outcome == "deleted"])
    return rows


def delete(client, rows):
    """Delete the rows' indicators: one DELETE for one alone, else BatchDelete in batches of 500."""
    if len(rows) == 1:
        _delete_one(client, rows[0])
        return
    for start in range(0, len(rows), BATCH_DELETE_MAX):
        _batch_delete(client, rows[start:start + BATCH_DELETE_MAX])


def _delete_one(client, row):
    try:
        client.request("DELETE", "/api/indicators/%s" % quote_segment(row.current["id"]), idempotent=True)
    except DefenderNotFoundError:
        pass  # gone already (another task, or a retry): absent is what was asked
    except DefenderError as exc:
        row.fail(exc)
    row.entity = row.current if row.failed else None


def _batch_delete(client, batch, retry=True):
    """One BatchDelete and its outcome for each row. Learn ("Batch Delete Indicators") gives no per-item result:
    204 means all went; 404 means some id was not found, without saying whether the others went; 403 means the app
    may not see one indicator's device groups, without saying which. So a 404 is followed by a read of what is left,
    which is sent once more; a 403 by one DELETE each, so the others still go and the refused one is named."""
    ids = [str(r.current["id"]) for r in batch]
    try:
        client.post("/api/indicators/BatchDelete", {"IndicatorIds": ids}, idempotent=True, expected=(200, 204))
    except DefenderNotFoundError as exc:
        left = _still_there(client, ids)
        remaining = [r for r in batch if str(r.current["id"]) in left]
        if remaining and retry:
            _batch_delete(client, remaining, retry=False)
        for row in remaining if not retry else []:
            row.fail(exc)
    except DefenderForbiddenError:
        for row in batch:
            _delete_one(client, row)
        return
    except DefenderError as exc:
        for row in batch:
            row.fail(exc)
    for row in batch:
        row.entity = row.current if row.failed else None


def _still_there(client, ids):
    """Which of `ids` the API still lists (one paged list: Learn documents no $filter on id)."""
    wanted = set(ids)
    try:
        return set(str(e.get("id")) for e in client.paged("/api/indicators") if str(e.get("id")) in wanted)
    except DefenderNotFoundError:
        return set()


def _submit_one(client, row):
    try:
        row.entity = client.post("/api/indicators", body(row.item), idempotent=True)
    except DefenderError as exc:
        row.fail(exc)


def _import(client, rows):
    for start in range(0, len(rows), IMPORT_MAX):
        batch = rows[start:start + IMPORT_MAX]
        try:
            answer = client.post("/api/indicators/import", {"Indicators": [body(r.item) for r in batch]},
                                 idempotent=True) or {}
        except DefenderError as exc:
            for row in batch:
                row.fail(exc)
            continue
        results = answer.get("value") or []
        for row, outcome in zip(batch, results):
            if outcome.get("isFailed"):
                row.fail(DefenderError("The import refused %s: %s" % (row.item["value"],
                                                                      outcome.get("failureReason")),
                                       code="ImportFailed"))
            else:
                row.entity = dict(row.current or {}, id=outcome.get("id"), **body(row.item))


def diff(rows):
    """The task's --diff: {"before": {label: ...}, "after": {label: ...}} over the indicators that change (a
    created one only in after, a deleted one only in before)."""
    before, after = {}, {}
    for row in rows:
        shown = row.diff()
        if shown is None:
            continue
        if shown[0] is not None:
            before[row.label()] = shown[0]
        if shown[1] is not None:
            after[row.label()] = shown[1]
    return {"before": before, "after": after}


def result(rows, single, client=None, with_diff=False):
    """The module result (_results.finish), or DefenderActionError carrying it: any failed indicator fails the
    task, and its `error` is the first failed one's."""
    out = [r.as_dict() for r in rows]
    summary = dict((k, len([r for r in out if r["outcome"] == k]))
                   for k in ("created", "updated", "deleted", "unchanged", "failed"))
    summary["purged"] = len([r for r in out if r["purged"] and r["outcome"] == "deleted"])
    try:
        done = finish(out, INDICATORS, summary, single=single, top_keys=("id", "outcome", "indicator"), alone=False,
                      first_error=True, client=client)
    except DefenderActionError as exc:
        if with_diff:
            exc.result["diff"] = diff(rows)
        raise
    if with_diff:
        done["diff"] = diff(rows)
    return done
