# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the one result model of every task that acts on many items.

An item is a device, an indicator, an alert, a library file. Each gets one ItemRow; finish() turns the rows into
the module result (changed, results, failed_<items>, summary, and for a task given one item, that item's keys at
the top) and raises DefenderActionError carrying that result when the task failed, so a failed task still hands
the playbook everything that is known.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError

# Failed items named in a task's message; the rest are counted.
SHOWN_FAILURES = 20


class ItemKind:
    """What the rows of a result are: the row key that names an item, the word for it, the failed list's key."""

    def __init__(self, label, noun, failed_key):
        self.label = label
        self.noun = noun
        self.failed_key = failed_key


DEVICES = ItemKind("machine", "device", "failed_machines")
INDICATORS = ItemKind("value", "indicator", "failed_indicators")
ACTIONS = ItemKind("action_id", "action", "failed_actions")
ALERTS = ItemKind("alert_id", "alert", "failed_alerts")
LIBRARY_FILES = ItemKind("name", "library file", "failed_files")


class ItemRow:
    """One item's line in a result. A kind adds its own keys in fields(); `extra` is what a step adds on the way
    (commands, files, a package)."""

    def __init__(self):
        self.changed = False
        self.failed = False
        self.msg = ""
        self.error = None   # the error's dict (DefenderError.to_dict()), for a failed row
        self.extra = {}

    def fail(self, exc):
        self.failed = True
        self.msg = str(exc)
        self.error = exc.to_dict()
        if isinstance(exc, DefenderActionError):
            self.extra.update(dict((k, v) for k, v in exc.result.items() if k not in self.result_keys()))

    @staticmethod
    def result_keys():
        """Keys of a DefenderActionError's result that are not this row's to take over."""
        return ()

    def fields(self):
        return {}

    def as_dict(self):
        row = self.fields()
        row.update(changed=self.changed, failed=self.failed, msg=self.msg)
        if self.error:
            row["error"] = self.error
        row.update(self.extra)
        return row


def failure_message(failed, total, kind=DEVICES):
    """The task's message for failed rows (dicts): how many, and the first ones with their reasons."""
    shown = "; ".join("%s: %s" % (r[kind.label], r["msg"]) for r in failed[:SHOWN_FAILURES])
    more = " (and %d more)" % (len(failed) - SHOWN_FAILURES) if len(failed) > SHOWN_FAILURES else ""
    return "%d of %d %s(s) failed: %s%s" % (len(failed), total, kind.noun, shown, more)


def shared_error(errors):
    """When every failed item failed for the same coded reason (a spent budget, a missing permission), the task's
    `error` is that one (of these error dicts), so a playbook can branch on it; otherwise the rows tell."""
    codes = set(e.get("code") for e in errors)
    if errors and len(codes) == 1 and None not in codes:
        return errors[0]
    return None


def finish(rows, kind, summary, single=False, top_keys=(), fail_on_error=True, alone=True, first_error=False,
           client=None):
    """The module result of these rows (dicts), or DefenderActionError carrying it.

    `summary` is the kind's counts. With `single` (the task named one item), that row's `top_keys` are put at the
    top of the result too. The task fails when any row failed and `fail_on_error` is true, or when its single item
    failed; then the message is that item's own (`alone`) or the count with the reasons, and the task's `error` is
    the first failed row's (`first_error`) or the one they all share. `client`, when given, adds what it saw of the
    shared rate budget."""
    failed = [r for r in rows if r["failed"]]
    result = {"changed": any(r["changed"] for r in rows), "results": rows,
              kind.failed_key: [r[kind.label] for r in failed], "summary": summary}
    if single and rows:
        result.update((k, rows[0][k]) for k in top_keys if k in rows[0])
    if client is not None:
        client.add_rate_budget(result)
    if not failed or not (fail_on_error or single):
        return result
    if single and alone:
        failure = failed[0]["msg"]
    else:
        failure = failure_message(failed, len(rows), kind)
    errors = [r["error"] for r in failed if r.get("error")]
    error = (errors[0] if errors else None) if first_error or single else shared_error(errors)
    raise DefenderActionError(failure, result=dict(result, error=error) if error else result)
