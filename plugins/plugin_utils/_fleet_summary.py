# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what the fleet_summary, fleet_summary_lines and fleet_summary_counts filters do.

A fleet module's result has one row per device (`results`), in the modules' terms (`failed`, `changed`, `msg`, an
action id or none). These turn one result, or several steps of them, into rows a responder reads: the device's name
first, ok or not, the status (or what there is instead of one), the action and the whole reason; then aligned text
lines and counts. Everything they return is marked unsafe: device names and the API's messages are an attacker's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe

OUTCOMES = ("done", "submitted", "existing", "would_submit", "not_needed", "not_submitted", "failed")
FINAL = ("Succeeded", "Failed", "TimeOut", "Cancelled")
# What the module rows carry that the summary row says in its own way; everything else is kept as it is.
_MODULE_KEYS = ("machine", "machine_id", "machine_name", "action_id", "status", "changed", "failed", "msg")
_DEVICE_KEYS = ("machine", "given", "machine_id", "machine_name", "ok", "changed", "reason", "message", "steps")
# Counted as the modules' summaries count.
_COUNT_AS = {"done": "submitted", "submitted": "submitted", "existing": "already_done", "not_needed": "already_done",
             "would_submit": "would_submit", "not_submitted": "failed", "failed": "failed"}
_CONTROL = re.compile(u"[\u0000-\u001f\u007f-\u009f\u2028\u2029]")


def _text(value):
    return u"" if value is None else u"%s" % (value,)


def _plain(value):
    """A copy in plain dicts and lists: ansible-core 2.19 hands a filter lazy containers, which cannot be rebuilt
    (make_unsafe rebuilds every container), and the input is never changed."""
    if isinstance(value, Mapping):
        return dict((k, _plain(v)) for k, v in value.items())
    if _is_list(value):
        return [_plain(v) for v in value]
    return value


def _is_list(value):
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _is_result(value):
    """A module's registered result, as opposed to a dictionary of step name to result."""
    return isinstance(value, Mapping) and any(k in value for k in ("results", "actions", "skipped", "changed",
                                                                   "failed", "msg", "summary"))


def _is_rows(value):
    return _is_list(value) and all(isinstance(r, Mapping) and "ok" in r for r in value)


# --- input --------------------------------------------------------------------------------------------------
def _steps(data, words):
    """[(step name or None, result, words, missing)], whatever form the input has."""
    if data is None:
        raise AnsibleFilterError("fleet_summary: the input is empty; give a registered fleet result or a list of steps")
    if _is_result(data):
        return [(None, data, words, None)]
    if isinstance(data, Mapping):
        return [(_text(step), result, words, None) for step, result in data.items()]
    if _is_list(data):
        if all(isinstance(s, Mapping) and "result" in s for s in data) and data:
            out = []
            for entry in data:
                if entry.get("step") in (None, ""):
                    raise AnsibleFilterError("fleet_summary: every entry of a list of steps needs a 'step' name")
                own = entry.get("words")
                if own is not None and not isinstance(own, Mapping):
                    raise AnsibleFilterError("fleet_summary: the words of step %s must be a dictionary" % entry["step"])
                out.append((_text(entry["step"]), entry["result"], words if own is None else own,
                            entry.get("missing")))
            return out
        if _is_rows(data):
            return [(None, data, words, None)]
    raise AnsibleFilterError(
        "fleet_summary expects a registered fleet result, a list of {step, result}, a dictionary of step to result, "
        "or rows it made, not %s" % type(data).__name__)


def _rows_of(step, result, words):
    """The summary rows of one step."""
    if result is None:
        return []
    if _is_rows(result):
        rows = []
        for row in result:
            row = dict(row)
            if step is not None:
                row["step"] = step
            rows.append(row)
        return rows
    if not isinstance(result, Mapping):
        raise AnsibleFilterError("fleet_summary: the result of step %s is a %s, not a registered result"
                                 % (step, type(result).__name__))
    if "actions" in result and _is_list(result.get("actions")):
        return _info_rows(step, result, words)
    results = result.get("results")
    if results is None:
        if result.get("skipped") or not result.get("failed"):
            return []
        # The task failed as a whole (sign-in, permission, bad input): one row, so that no summary hides it.
        return [_row(step, {"machine": "(the whole task)", "failed": True, "error": result.get("error"),
                            "msg": result.get("msg") or "The task failed."}, words, False)]
    if not _is_list(results):
        raise AnsibleFilterError("fleet_summary: the results of step %s are not a list" % step)
    summary = result.get("summary") if isinstance(result.get("summary"), Mapping) else {}
    # In check mode a cancel row has its action id, so only the task's counts tell that nothing was cancelled.
    would_mode = any(k.startswith("would_") and _number(v) > 0 for k, v in summary.items())
    return [_row(step, r, words, would_mode) for r in results if isinstance(r, Mapping)]


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _outcome(row, would_mode):
    failed, changed = bool(row.get("failed")), bool(row.get("changed"))
    action_id, status = row.get("action_id"), row.get("status")
    if failed:
        return "failed" if action_id and (status or "previous_status" in row) else "not_submitted"
    if changed and (not action_id or would_mode):
        return "would_submit"
    # An adopted session whose files were brought home is a change on the controller, but nothing was submitted.
    if changed and not row.get("adopted"):
        return "done" if status in FINAL else "submitted"
    return "existing" if action_id else "not_needed"


def _reason(row):
    reason = _text(row.get("msg"))
    if not reason and row.get("failed"):
        error = row.get("error") if isinstance(row.get("error"), Mapping) else {}
        reason = _text(error.get("message") or error.get("code") or "It failed, and no reason was given.")
    return reason


def _row(step, r, words, would_mode, outcome=None, status=None):
    outcome = outcome or _outcome(r, would_mode)
    action_status = r.get("status")
    if status is None:
        if outcome == "would_submit":
            status = "WouldCancel" if "previous_status" in r else "WouldSubmit"
        else:
            status = action_status or {"not_submitted": "NotSubmitted", "not_needed": "NotNeeded"}.get(outcome, "Failed")
    status = words.get(outcome, status) if words else status
    reason = _reason(r)
    row = {
        "machine": None,
        "reason": reason,
        "ok": not r.get("failed"),
        "given": r.get("machine"),
        "machine_id": r.get("machine_id"),
        "machine_name": r.get("machine_name"),
        "step": step,
        "changed": bool(r.get("changed")),
        "outcome": outcome,
        "status": status,
        "action_status": action_status,
        "action_id": r.get("action_id"),
        "message": reason,
    }
    for key, value in r.items():
        if key not in _MODULE_KEYS and key not in row:
            row[key] = value
    # Live response's evidence, in the same keys for every step (empty when there is none).
    row["directory"] = r.get("evidence_dir") or ""
    row["files"] = [dict(f, name=os.path.basename(_text(f.get("path") or f.get("remote_path"))))
                    for f in (r.get("files") or []) if isinstance(f, Mapping)]
    return row


def _info_rows(step, result, words):
    """defender_machine_action_info: one row per action, under the device it was found for; one per device that
    could not be looked up or has no action that matches."""
    actions = [a for a in result.get("actions") or [] if isinstance(a, Mapping)]
    used, rows = set(), []

    def action_row(action, device):
        used.add(id(action))
        source = {"machine": device.get("machine"), "changed": False, "failed": False,
                  "machine_id": action.get("machineId") or device.get("machine_id"),
                  "machine_name": device.get("machine_name") or action.get("computerDnsName"),
                  "action_id": action.get("id"), "status": action.get("status"), "type": action.get("type")}
        return _row(step, source, words, False, outcome="existing")

    for device in result.get("results") or []:
        if not isinstance(device, Mapping):
            continue
        if device.get("failed"):
            rows.append(_row(step, device, words, False, outcome="not_submitted", status="LookupFailed"))
            continue
        mine = _text(device.get("machine_id")).lower()
        found = [a for a in actions if mine and _text(a.get("machineId")).lower() == mine]
        rows.extend(action_row(a, device) for a in found)
        if not found:
            rows.append(_row(step, dict(device, msg=device.get("msg") or "No action matches on this device."),
                             words, False, outcome="not_needed", status="NoneFound"))
    rows.extend(action_row(a, {}) for a in actions if id(a) not in used)
    return rows


def _key(row):
    return _text(row.get("given") or row.get("machine_id") or row.get("machine_name") or row.get("machine"))


def _collect(data, words=None, machine="name"):
    """[(step, [rows], missing)], the rows complete, `given` filled in across the steps."""
    data, words = _plain(data), _plain(words)
    if machine not in ("name", "given"):
        raise AnsibleFilterError("fleet_summary: machine must be 'name' or 'given', not %r" % (machine,))
    if words is not None and not isinstance(words, Mapping):
        raise AnsibleFilterError("fleet_summary: words must be a dictionary of outcome to text")
    for table in [words or {}] + [s.get("words") or {} for s in (data if _is_list(data) else [])
                                  if isinstance(s, Mapping) and isinstance(s.get("words"), Mapping)]:
        unknown = sorted(_text(k) for k in table if k not in OUTCOMES)
        if unknown:
            raise AnsibleFilterError("fleet_summary: words for unknown outcomes %s; the outcomes are %s"
                                     % (", ".join(unknown), ", ".join(OUTCOMES)))
    steps = [(step, _rows_of(step, result, own or {}), missing) for step, result, own, missing in _steps(data, words)]
    # A cancel row names no device as given: take it from another step's row of the same device (the look-up).
    given = {}
    for _step, rows, _missing in steps:
        for row in rows:
            if row.get("given") and row.get("machine_id"):
                given.setdefault(_text(row["machine_id"]).lower(), row["given"])
    for _step, rows, _missing in steps:
        for row in rows:
            if not row.get("given") and row.get("machine_id"):
                row["given"] = given.get(_text(row["machine_id"]).lower())
            row["machine"] = _machine(row, machine)
    return steps


def _machine(row, machine):
    name = row.get("machine_name") or row.get("machine_id")
    if machine == "given":
        return row.get("given") or name or row.get("machine")
    return name or row.get("given") or row.get("machine")


def _device_major(steps):
    """The rows, the steps of one device together, devices in the order they first appear."""
    order, by_key = [], {}
    for _step, rows, _missing in steps:
        for row in rows:
            key = _key(row)
            if key not in by_key:
                by_key[key] = []
                order.append(key)
            by_key[key].append(row)
    return [row for key in order for row in by_key[key]]


def _by_device(steps, nest):
    names = [step for step, _rows, _missing in steps]
    if any(step is None for step in names):
        raise AnsibleFilterError("fleet_summary: by='device' needs named steps (a list of {step, result} or a "
                                 "dictionary of step to result)")
    clash = sorted(set(names) & set(_DEVICE_KEYS))
    if clash or len(set(names)) != len(names):
        raise AnsibleFilterError("fleet_summary: step names must be unique and not %s: %s"
                                 % (", ".join(_DEVICE_KEYS), ", ".join(clash or names)))
    order, devices = [], {}
    for step, rows, _missing in steps:
        for row in rows:
            key = _key(row)
            if key not in devices:
                devices[key] = {}
                order.append(key)
            if step in devices[key]:
                raise AnsibleFilterError("fleet_summary: step %s has more than one row for device %s; by='device' "
                                         "needs one row per device and step (use by='step')" % (step, key))
            devices[key][step] = row
    out = []
    for key in order:
        mine = devices[key]
        present = [mine[step] for step in names if step in mine]
        first = present[0]
        failing = [(step, mine[step]) for step in names if step in mine and not mine[step].get("ok")]
        reason = "; ".join("%s: %s" % (step, _text(row.get("reason") or row.get("message") or row.get("status")))
                           for step, row in failing)
        device = {
            "machine": first.get("machine"),
            "reason": reason,
            "ok": not failing,
            "given": first.get("given"),
            "machine_id": next((r["machine_id"] for r in present if r.get("machine_id")), None),
            "machine_name": next((r["machine_name"] for r in present if r.get("machine_name")), None),
            "changed": any(r.get("changed") for r in present),
            "message": reason,
        }
        for step, _rows, missing in steps:
            if step in mine:
                device[step] = mine[step] if nest else _cell(mine[step])
            else:
                device[step] = missing if missing is not None else (None if nest else "-")
        if not nest:
            device["steps"] = dict((step, mine[step]) for step in names if step in mine)
        out.append(device)
    return out


def _cell(row):
    if "status" in row:
        return row["status"]
    return "ok" if row.get("ok") else "failed"


# --- the filters ----------------------------------------------------------------------------------------------
def fleet_summary(data, by="step", machine="name", nest=False, words=None):
    if by not in ("step", "device"):
        raise AnsibleFilterError("fleet_summary: by must be 'step' or 'device', not %r" % (by,))
    steps = _collect(data, words, machine)
    if by == "device":
        return make_unsafe(_by_device(steps, bool(nest)))
    return make_unsafe(_device_major(steps))


def _line_rows(data):
    """The by-step rows to print; a by-device row made before is printed as its steps."""
    rows = []
    for row in _device_major(_collect(data)):
        nested = row.get("steps")
        if isinstance(nested, Mapping) and nested:
            rows.extend(dict(r, machine=_machine(r, "name")) for r in nested.values() if isinstance(r, Mapping))
        else:
            rows.append(dict(row, machine=_machine(row, "name")))
    return rows


def _printable(value):
    """Text on one line: a newline or escape sequence in a device name must not forge or hide a line."""
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 0x100
                        else "\\u%04x" % ord(m.group()), _text(value))


def _label(row):
    """The device as a responder names it: its name, and its id beside it when both are known."""
    name, machine_id = row.get("machine_name"), row.get("machine_id")
    if name and machine_id and _text(name).lower() != _text(machine_id).lower():
        return "%s (%s)" % (_text(name), _text(machine_id))
    return _text(name or machine_id or row.get("given") or row.get("machine") or "-")


def _counts(rows_by_step, device_rows):
    steps = []
    totals = {"rows": 0, "submitted": 0, "already_done": 0, "would_submit": 0, "failed_rows": 0}
    for step, rows in rows_by_step:
        counts = {"step": step, "rows": len(rows), "submitted": 0, "already_done": 0, "would_submit": 0, "failed": 0}
        for row in rows:
            bucket = _COUNT_AS.get(row.get("outcome"))
            if bucket is None:  # a row made elsewhere, without an outcome
                bucket = "already_done" if row.get("ok") else "failed"
            if not row.get("ok"):
                bucket = "failed"
            counts[bucket] += 1
        steps.append(counts)
        totals["rows"] += counts["rows"]
        totals["failed_rows"] += counts["failed"]
        for key in ("submitted", "already_done", "would_submit"):
            totals[key] += counts[key]
    devices = {}
    for row in device_rows:
        devices.setdefault(_key(row), []).append(row)
    failed = [mine for mine in devices.values() if not all(r.get("ok") for r in mine)]
    failures = []
    for row in device_rows:
        if not row.get("ok"):
            where = " ".join(_text(x) for x in (row.get("step"), row.get("status")) if x)
            if row.get("action_id"):
                where += ", action %s" % _text(row["action_id"])
            reason = _text(row.get("reason") or row.get("message") or "no reason given").strip()
            where = where.strip(", ")
            failures.append("%s: %s%s" % (_label(row), reason, (" (%s)" % where) if where else ""))
    result = {"devices": len(devices), "ok": len(devices) - len(failed), "failed": len(failed),
              "failed_machines": [_label(mine[0]) for mine in failed], "failures": failures, "steps": steps}
    result.update(totals)
    return result


def _count_rows(rows):
    by_step = {}
    for row in rows:
        by_step.setdefault(row.get("step"), []).append(row)
    return _counts(list(by_step.items()), rows)


def fleet_summary_counts(data):
    return make_unsafe(_count_rows(_line_rows(data)))


def _totals_line(counts):
    parts = []
    for step in counts["steps"]:
        said = ", ".join("%d %s" % (step[k], k.replace("_", " ")) for k in ("submitted", "already_done",
                                                                            "would_submit", "failed") if step[k])
        parts.append(("%s: %s" % (step["step"], said or "nothing")) if step["step"] else (said or "nothing"))
    head = "%d device(s): %d ok, %d failed" % (counts["devices"], counts["ok"], counts["failed"])
    return head + ("; " + "; ".join(parts) if parts else "")


def fleet_summary_lines(data, failed_only=False, totals=True, header=True):
    rows = _line_rows(data)
    shown = [r for r in rows if not r.get("ok")] if failed_only else rows
    lines = []
    if shown:
        with_step = any(r.get("step") for r in shown)
        names = [_printable(r.get("machine")) for r in shown]
        width = min(max(len(n) for n in names + ["DEVICE"]), 48)
        step_width = max(len(_printable(r.get("step"))) for r in shown + [{"step": "STEP"}])
        status_width = max(len(_printable(r.get("status"))) for r in shown + [{"status": "STATUS"}])

        def line(device, step, status, action, reason):
            cells = [device.ljust(width)] + ([step.ljust(step_width)] if with_step else [])
            cells += [status.ljust(status_width), action.ljust(36), reason]
            return "  ".join(cells).rstrip()

        if header:
            lines.append(line("DEVICE", "STEP", "STATUS", "ACTION", "REASON"))
        for name, row in zip(names, shown):
            lines.append(line(name, _printable(row.get("step")), _printable(row.get("status")),
                              _printable(row.get("action_id") or "-"), _printable(row.get("reason"))))
            if failed_only:
                continue
            if row.get("directory") and (row.get("files") or row.get("ok")):  # not where nothing came home
                lines.append("    evidence: %s" % _printable(row["directory"]))
            for f in row.get("files") or []:
                if isinstance(f, Mapping):
                    cells = (_printable(f.get("sha256")), _printable(f.get("name")), _printable(f.get("size")))
                    lines.append("    %s  %s  (%s bytes)" % cells)
    if totals:
        lines.append(_totals_line(_count_rows(rows)))
    return make_unsafe(lines)
