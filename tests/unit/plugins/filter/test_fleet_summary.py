"""secops.defender.fleet_summary, fleet_summary_lines and fleet_summary_counts on results shaped like the modules'
RETURN: what a responder reads must be whole, in order, and inert however it is used afterwards."""

import copy

import pytest

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.secops.defender.plugins.filter import fleet_summary as summary_plugin
from ansible_collections.secops.defender.plugins.filter import fleet_summary_counts as counts_plugin
from ansible_collections.secops.defender.plugins.filter import fleet_summary_lines as lines_plugin

fleet_summary = summary_plugin.FilterModule().filters()["fleet_summary"]
fleet_summary_lines = lines_plugin.FilterModule().filters()["fleet_summary_lines"]
fleet_summary_counts = counts_plugin.FilterModule().filters()["fleet_summary_counts"]

try:  # ansible-core 2.19 and later: a template written in Python is trusted only when tagged so
    from ansible._internal._datatag._tags import TrustedAsTemplate

    def trusted(text):
        return TrustedAsTemplate().tag(text)

    def is_marked_unsafe(value):
        return not TrustedAsTemplate.is_tagged_on(value)
except ImportError:  # 2.16 to 2.18
    from ansible.utils.unsafe_proxy import AnsibleUnsafe

    def trusted(text):
        return text

    def is_marked_unsafe(value):
        return isinstance(value, AnsibleUnsafe)


WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
WS2 = "2e5bc9d7e413ddd7902c2932e418702b84d0cc07"
LNX = "3e5bc9d7e413ddd7902c2932e418702b84d0cc07"
OFF = "4e5bc9d7e413ddd7902c2932e418702b84d0cc07"
A1 = "7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01"
A2 = "0f3e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c02"
A3 = "5d1e2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c03"
HOSTILE = "hx0 {{ lookup('pipe', 'id') }} =={{ 7*191 }}== {% set x = 1 %}"
LONG_REASON = ("Action %s on lt-sales-007.corp.example.com is still Pending after wait_timeout=900s. It goes on in "
               "Defender. Wait again with secops.defender.defender_machine_action_info, or cancel it with "
               "secops.defender.defender_cancel_action. " % A2) * 12


def row(machine, machine_id=None, machine_name=None, action_id=None, status=None, changed=False, failed=False,
        msg="", **extra):
    out = {"machine": machine, "machine_id": machine_id, "machine_name": machine_name, "action_id": action_id,
           "status": status, "changed": changed, "failed": failed, "msg": msg}
    out.update(extra)
    return out


def fleet(rows, **summary):
    counts = {"devices": len(rows), "submitted": 0, "already_done": 0, "would_submit": 0, "failed": 0}
    counts.update(summary)
    return {"changed": any(r["changed"] for r in rows), "results": rows, "summary": counts,
            "failed_machines": [r["machine"] for r in rows if r["failed"]],
            "rate_budget": {"calls": 4, "paced_calls": 0, "paced_seconds": 0.0, "rate_limited": 0}}


def quarantine():
    """defender_quarantine_file with machines: new, equal one found, refused before submitting, timed out."""
    return fleet([
        row("ws-fin-001.corp.example.com", WS1, "ws-fin-001.corp.example.com", A1, "Succeeded", changed=True),
        row(WS2, WS2, "ws-fin-002.corp.example.com", A3, "Succeeded",
            msg="An equal action is already Succeeded; nothing was submitted."),
        row(LNX, LNX, None, None, None, failed=True,
            msg="The device does not support StopAndQuarantineFile (400 OsPlatformNotSupported, correlation id "
                "c0ffee). Supported: Windows 10 1703+, Windows 11.",
            error={"status": 400, "code": "OsPlatformNotSupported", "message": "Os platform not supported"}),
        row("lt-sales-007", OFF, "lt-sales-007.corp.example.com", A2, "Pending", changed=True, failed=True,
            msg=LONG_REASON, error={"code": "ActionTimeout"}),
    ], submitted=1, already_done=1, failed=2)


def check_mode_quarantine():
    """The same module in check mode: nothing submitted, one equal action still pending."""
    return fleet([
        row("ws-fin-001.corp.example.com", WS1, "ws-fin-001.corp.example.com", changed=True,
            msg="Would submit StopAndQuarantineFile."),
        row(WS2, WS2, "ws-fin-002.corp.example.com", A3, "Pending",
            msg="An equal action is already Pending; nothing was submitted."),
        row("no-such-device.corp.example.com", failed=True,
            msg="No device is named no-such-device.corp.example.com (computerDnsName)."),
    ], already_done=1, would_submit=1, failed=1)


def test_one_row_per_device_in_order_with_the_name_first_and_the_reason_whole():
    rows = fleet_summary(quarantine())
    assert [r["machine"] for r in rows] == ["ws-fin-001.corp.example.com", "ws-fin-002.corp.example.com", LNX,
                                            "lt-sales-007.corp.example.com"]
    assert [r["given"] for r in rows] == ["ws-fin-001.corp.example.com", WS2, LNX, "lt-sales-007"]
    assert [r["ok"] for r in rows] == [True, True, False, False]
    assert [r["status"] for r in rows] == ["Succeeded", "Succeeded", "NotSubmitted", "Pending"]
    assert [r["outcome"] for r in rows] == ["done", "existing", "not_submitted", "failed"]
    assert [r["action_id"] for r in rows] == [A1, A3, None, A2]
    assert rows[1]["reason"] == "An equal action is already Succeeded; nothing was submitted."
    assert rows[2]["reason"].startswith("The device does not support StopAndQuarantineFile")
    assert rows[3]["reason"] == LONG_REASON and rows[3]["message"] == LONG_REASON
    assert all(r["step"] is None for r in rows)
    # what the module adds is kept, as it came
    assert rows[2]["error"]["code"] == "OsPlatformNotSupported"


def test_machine_given_keeps_the_modules_own_key_for_matching_a_list():
    rows = fleet_summary(quarantine(), machine="given")
    assert [r["machine"] for r in rows] == ["ws-fin-001.corp.example.com", WS2, LNX, "lt-sales-007"]
    assert rows[1]["machine_name"] == "ws-fin-002.corp.example.com"


def test_check_mode_says_what_would_be_submitted_and_why_not():
    rows = fleet_summary(check_mode_quarantine())
    assert [r["status"] for r in rows] == ["WouldSubmit", "Pending", "NotSubmitted"]
    assert [r["outcome"] for r in rows] == ["would_submit", "existing", "not_submitted"]
    assert [r["ok"] for r in rows] == [True, True, False]
    assert rows[0]["reason"] == "Would submit StopAndQuarantineFile."
    assert rows[2]["reason"] == "No device is named no-such-device.corp.example.com (computerDnsName)."
    counts = fleet_summary_counts(check_mode_quarantine())
    assert (counts["devices"], counts["ok"], counts["failed"]) == (3, 2, 1)
    assert (counts["would_submit"], counts["already_done"], counts["submitted"]) == (1, 1, 0)
    lines = fleet_summary_lines(check_mode_quarantine())
    assert lines[-1] == "3 device(s): 2 ok, 1 failed; 1 already done, 1 would submit, 1 failed"
    assert any("WouldSubmit" in line and "Would submit StopAndQuarantineFile." in line for line in lines)


def test_a_failed_rows_long_reason_is_kept_whole_everywhere():
    result = quarantine()
    assert len(LONG_REASON) > 2000
    assert fleet_summary(result)[3]["reason"] == LONG_REASON
    lines = fleet_summary_lines(result)
    assert sum(LONG_REASON.strip() in line for line in lines) == 1
    counts = fleet_summary_counts(result)
    assert any(LONG_REASON.strip() in f for f in counts["failures"])
    failure = [f for f in counts["failures"] if A2 in f][0]
    # who first, then why, then where
    assert failure.startswith("lt-sales-007.corp.example.com (%s): Action %s" % (OFF, A2))
    assert failure.endswith("(Pending, action %s)" % A2)
    assert counts["failed_machines"] == [LNX, "lt-sales-007.corp.example.com (%s)" % OFF]


def test_a_failed_row_without_a_message_says_the_apis_error():
    result = fleet([row("ws-x", WS1, None, failed=True, error={"code": "Forbidden", "message": "Missing role"})],
                   failed=1)
    assert fleet_summary(result)[0]["reason"] == "Missing role"


def test_lines_are_aligned_and_carry_each_device_once_per_step():
    lines = fleet_summary_lines(quarantine())
    header, body = lines[0], lines[1:-1]
    assert header.split() == ["DEVICE", "STATUS", "ACTION", "REASON"]
    assert len(body) == 4
    for column in ("STATUS", "ACTION"):
        start = header.index(column)
        for line in body:
            assert line[start - 2:start] == "  " and line[start] != " ", (column, line)
    assert body[2].split()[:3] == [LNX, "NotSubmitted", "-"]
    assert lines[-1] == "4 device(s): 2 ok, 2 failed; 1 submitted, 1 already done, 2 failed"


def test_failed_only_lines():
    lines = fleet_summary_lines(quarantine(), failed_only=True, totals=False)
    assert [line.split()[0] for line in lines] == ["DEVICE", LNX, "lt-sales-007.corp.example.com"]


def test_a_hostile_name_stays_inert_through_templating():
    result = fleet([row(HOSTILE, None, HOSTILE, A1, "Succeeded", changed=True, msg=HOSTILE,
                        files=[{"path": "/e/%s/triage.txt" % "x", "remote_path": HOSTILE, "sha256": "ab" * 32,
                                "size": 3}])], submitted=1)
    rows = fleet_summary(result)
    lines = fleet_summary_lines(result)
    counts = fleet_summary_counts(result)
    assert rows[0]["machine"] == HOSTILE and rows[0]["reason"] == HOSTILE
    for value in (rows[0]["machine"], rows[0]["reason"], rows[0]["files"][0]["remote_path"], lines[1], lines[-1],
                  counts["steps"][0]["rows"] and counts["failures"] == [] and lines[0]):
        assert is_marked_unsafe(value), value
    assert all(is_marked_unsafe(k) for k in rows[0])
    templar = Templar(loader=DataLoader(), variables={"rows": rows, "lines": lines})
    assert templar.template(trusted("{{ rows[0].machine }}")) == HOSTILE
    assert templar.template(trusted("{{ rows[0].files[0].remote_path }}")) == HOSTILE
    shown = templar.template(trusted("{{ lines }}"))
    assert HOSTILE in shown[1]
    # kept (as set_fact keeps it) and read again: still the text, never run
    again = Templar(loader=DataLoader(), variables={"kept": templar.template(trusted("{{ rows }}"))})
    assert again.template(trusted("{{ kept[0].machine }}")) == HOSTILE
    assert again.template(trusted("{{ kept[0].reason }}")) == HOSTILE
    for text in (again.template(trusted("{{ kept | to_json }}")), "\n".join(shown)):
        assert "==1337==" not in text and "uid=" not in text


def test_a_newline_in_a_name_cannot_forge_a_line():
    result = fleet([row("line\nbreak", WS1, "line\nWS-FAKE Succeeded", A1, "Succeeded", changed=True)], submitted=1)
    lines = fleet_summary_lines(result)
    assert len(lines) == 3 and lines[1].startswith("line\\x0aWS-FAKE Succeeded")
    assert fleet_summary(result)[0]["machine"] == "line\nWS-FAKE Succeeded"  # the data itself stays as it is


def isolation(releasing=False):
    return fleet([
        row("ws-fin-001.corp.example.com", WS1, "ws-fin-001.corp.example.com", A1, "Succeeded",
            changed=not releasing, msg="" if not releasing else "An equal action is already Succeeded."),
        row(WS2, WS2, "ws-fin-002.corp.example.com", None, None,
            msg="The device has no Isolate or Unisolate action, so it is already in that state; nothing was "
                "submitted."),
        row(LNX, LNX, "srv-lnx-01.corp.example.com", A2, "TimeOut", changed=True, failed=True,
            msg="Action %s on srv-lnx-01 ended TimeOut." % A2),
    ], submitted=1, already_done=1, failed=1)


def restriction_check_mode():
    return fleet([
        row("ws-fin-001.corp.example.com", WS1, "ws-fin-001.corp.example.com", changed=True,
            msg="Would submit RestrictCodeExecution."),
        row(WS2, WS2, "ws-fin-002.corp.example.com", changed=True, msg="Would submit RestrictCodeExecution."),
        row(LNX, LNX, "srv-lnx-01.corp.example.com", failed=True, msg="Not supported on Linux."),
    ], would_submit=2, failed=1)


WORDS = {"would_submit": "would isolate", "existing": "isolated (already)", "not_needed": "isolated (already)",
         "done": "isolated"}


def test_steps_as_a_list_or_a_dict_are_the_same_rows_device_by_device():
    as_list = fleet_summary([{"step": "isolation", "result": isolation()},
                             {"step": "restriction", "result": restriction_check_mode()}])
    as_dict = fleet_summary({"isolation": isolation(), "restriction": restriction_check_mode()})
    assert as_list == as_dict
    assert [(r["machine"], r["step"]) for r in as_list] == [
        ("ws-fin-001.corp.example.com", "isolation"), ("ws-fin-001.corp.example.com", "restriction"),
        ("ws-fin-002.corp.example.com", "isolation"), ("ws-fin-002.corp.example.com", "restriction"),
        ("srv-lnx-01.corp.example.com", "isolation"), ("srv-lnx-01.corp.example.com", "restriction")]
    assert [r["status"] for r in as_list] == ["Succeeded", "WouldSubmit", "NotNeeded", "WouldSubmit", "TimeOut",
                                              "NotSubmitted"]


def test_by_device_side_by_side_in_the_steps_words():
    steps = [{"step": "isolation", "result": isolation(), "words": WORDS},
             {"step": "restriction", "result": {"changed": False, "skipped": True, "skip_reason": "Conditional"}}]
    rows = fleet_summary(steps, by="device", machine="given")
    assert [r["machine"] for r in rows] == ["ws-fin-001.corp.example.com", WS2, LNX]
    assert [r["isolation"] for r in rows] == ["isolated", "isolated (already)", "TimeOut"]
    assert [r["restriction"] for r in rows] == ["-", "-", "-"]  # a skipped step has no rows
    assert [r["ok"] for r in rows] == [True, True, False]
    assert rows[2]["reason"] == "isolation: Action %s on srv-lnx-01 ended TimeOut." % A2
    assert rows[2]["message"] == rows[2]["reason"] and rows[0]["reason"] == ""
    assert rows[2]["steps"]["isolation"]["action_id"] == A2
    assert rows[1]["machine_name"] == "ws-fin-002.corp.example.com" and rows[1]["given"] == WS2
    lines = fleet_summary_lines(steps)
    assert "isolated (already)" in lines[2] and lines[-1].startswith("3 device(s): 2 ok, 1 failed; isolation: ")


def test_by_device_nested_from_rows_made_before_with_a_placeholder_for_what_is_missing():
    quarantined = fleet_summary(quarantine(), machine="given")
    contained = fleet_summary([{"step": "isolation", "result": isolation(), "words": WORDS}], by="device",
                              machine="given")
    steps = [{"step": "containment", "result": [], "missing": {"isolation": "-", "ok": True, "message": ""}},
             {"step": "quarantine", "result": quarantined}]
    rows = fleet_summary(steps, by="device", machine="given", nest=True)
    assert [r["machine"] for r in rows] == ["ws-fin-001.corp.example.com", WS2, LNX, "lt-sales-007"]
    assert rows[0]["containment"] == {"isolation": "-", "ok": True, "message": ""}
    assert rows[0]["quarantine"]["status"] == "Succeeded" and "steps" not in rows[0]
    assert [r["ok"] for r in rows] == [True, True, False, False]
    both = fleet_summary([{"step": "containment", "result": contained}, {"step": "quarantine", "result": quarantined}],
                         by="device", machine="given", nest=True)
    assert both[0]["containment"]["isolation"] == "isolated"
    assert both[3]["containment"] is None  # not in the first step, no placeholder given
    counts = fleet_summary_counts(both)
    assert (counts["devices"], counts["failed"]) == (4, 2)
    # the lines of a by-device row are its steps' lines
    lines = fleet_summary_lines([{"step": "containment", "result": contained}])
    assert [line.split()[1] for line in lines[1:-1]] == ["isolation"] * 3


EVIDENCE = "/evidence/INC-1/ws-fin-001.corp.example.com-1e5bc9d7e413/" + A1


def live_response_result():
    """defender_live_response with machines: one session brought home, one device that never started one."""
    evidence = EVIDENCE
    return fleet([
        row("ws-fin-001.corp.example.com", WS1, "ws-fin-001.corp.example.com", A1, "Succeeded", changed=True,
            evidence_dir=evidence, manifest=evidence + "/manifest.json", all_succeeded=True, commands=[],
            files=[{"remote_path": "C:\\Windows\\Temp\\triage.txt", "path": evidence + "/triage.txt", "size": 200000,
                    "sha256": "bef5b6fe9d0c7b46fe027fb593be4a883b233e1e590ebde0dd71efdc0aa67363",
                    "unpacked": True}]),
        row(OFF, OFF, None, None, None, failed=True, msg="The device is offline."),
    ], submitted=1, failed=1)


def test_live_response_rows_bring_their_evidence():
    evidence, result = EVIDENCE, live_response_result()
    rows = fleet_summary(result, words={"would_submit": "WouldRun", "not_submitted": "NotStarted"})
    assert rows[0]["directory"] == evidence and rows[0]["files"][0]["name"] == "triage.txt"
    assert rows[0]["files"][0]["remote_path"] == "C:\\Windows\\Temp\\triage.txt"
    assert rows[1]["status"] == "NotStarted" and rows[1]["directory"] == "" and rows[1]["files"] == []
    lines = fleet_summary_lines(result)
    assert lines[2] == "    evidence: " + evidence
    # a session that timed out has its folder, but nothing came home: no evidence line for it
    result["results"][1].update(evidence_dir="/evidence/INC-1/offline-4e5bc9d7e413/" + A2, action_id=A2,
                                status="TimeOut")
    assert not any("offline-4e5bc9d7e413" in line for line in fleet_summary_lines(result))
    assert lines[3] == "    bef5b6fe9d0c7b46fe027fb593be4a883b233e1e590ebde0dd71efdc0aa67363  triage.txt  (200000 bytes)"


def test_an_adopted_session_whose_files_came_home_counts_as_already_done_not_submitted():
    result = live_response_result()
    result["results"][0].update(adopted=True, changed=True)
    rows = fleet_summary(result)
    assert rows[0]["outcome"] == "existing" and rows[0]["changed"]
    counts = fleet_summary_counts(result)
    assert (counts["submitted"], counts["already_done"]) == (0, 1)


def action_info():
    """defender_machine_action_info with machines and status [Pending, InProgress]."""
    return {
        "changed": False, "count": 2,
        "actions": [
            {"id": A1, "type": "StopAndQuarantineFile", "status": "Pending", "machineId": OFF,
             "computerDnsName": "lt-sales-007.corp.example.com", "requestorComment": HOSTILE},
            {"id": A2, "type": "LiveResponse", "status": "InProgress", "machineId": OFF,
             "computerDnsName": "lt-sales-007.corp.example.com"},
        ],
        "results": [
            {"machine": OFF, "machine_id": OFF, "machine_name": "lt-sales-007.corp.example.com", "failed": False,
             "msg": ""},
            {"machine": "ws-fin-001", "machine_id": WS1, "machine_name": "ws-fin-001.corp.example.com",
             "failed": False, "msg": ""},
            {"machine": "no-such-device.corp.example.com", "machine_id": None, "machine_name": None, "failed": True,
             "msg": "No device is named no-such-device.corp.example.com."},
        ],
        "failed_machines": ["no-such-device.corp.example.com"],
    }


def cancel(check_mode=False):
    """defender_cancel_action with action_ids: one cancelled (or would be), one that ended first."""
    rows = [
        {"action_id": A1, "machine_id": OFF, "machine_name": "lt-sales-007.corp.example.com",
         "type": "StopAndQuarantineFile", "previous_status": "Pending",
         "status": "Pending" if check_mode else "Cancelled", "changed": True, "failed": False,
         "msg": "Would cancel it." if check_mode else ""},
        {"action_id": A2, "machine_id": OFF, "machine_name": "lt-sales-007.corp.example.com", "type": "LiveResponse",
         "previous_status": "InProgress", "status": "Succeeded", "changed": False, "failed": False,
         "msg": "It is already Succeeded; nothing to cancel."},
    ]
    summary = {"actions": 2, "cancelled": 0 if check_mode else 1, "already_final": 1,
               "would_cancel": 1 if check_mode else 0, "failed": 0}
    return {"changed": True, "results": rows, "failed_actions": [], "summary": summary}


def test_action_info_gives_a_row_per_action_under_the_device_as_given():
    rows = fleet_summary(action_info(), machine="given")
    assert [(r["machine"], r["action_id"], r["status"]) for r in rows] == [
        (OFF, A1, "Pending"), (OFF, A2, "InProgress"), ("ws-fin-001", None, "NoneFound"),
        ("no-such-device.corp.example.com", None, "LookupFailed")]
    assert [r["type"] for r in rows[:2]] == ["StopAndQuarantineFile", "LiveResponse"]
    assert [r["ok"] for r in rows] == [True, True, True, False]
    assert "requestorComment" not in rows[0]
    assert rows[3]["reason"] == "No device is named no-such-device.corp.example.com."


def test_cancel_rows_in_check_mode_and_for_real_take_the_device_from_the_look_up():
    predicted = fleet_summary([{"step": "look up", "result": action_info()}, {"step": "cancel", "result": cancel(True)}],
                              machine="given")
    cancelled = [r for r in predicted if r["step"] == "cancel"]
    assert [r["status"] for r in cancelled] == ["WouldCancel", "Succeeded"]
    assert [r["outcome"] for r in cancelled] == ["would_submit", "existing"]
    assert [r["machine"] for r in cancelled] == [OFF, OFF]  # as given to the look-up
    # the steps of one device together
    together = [("look up", A1), ("look up", A2), ("cancel", A1), ("cancel", A2)]
    assert [(r["step"], r["action_id"]) for r in predicted[:4]] == together
    lookup = [r for r in fleet_summary(action_info(), machine="given") if not r["action_id"]]
    real = fleet_summary({"cancel": cancel()})
    assert [r["status"] for r in real] == ["Cancelled", "Succeeded"]
    assert [r["outcome"] for r in real] == ["done", "existing"] and all(r["ok"] for r in real)
    assert real[0]["previous_status"] == "Pending" and real[0]["machine"] == "lt-sales-007.corp.example.com"
    counts = fleet_summary_counts([{"step": "look up", "result": lookup}, {"step": "cancel", "result": cancel()}])
    assert counts["failures"] == ["no-such-device.corp.example.com: No device is named "
                                  "no-such-device.corp.example.com. (look up LookupFailed)"]


def test_a_skipped_task_has_no_rows_and_a_task_that_failed_as_a_whole_has_one():
    assert fleet_summary({"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}) == []
    assert fleet_summary_lines({"changed": False, "skipped": True}) == ["0 device(s): 0 ok, 0 failed"]
    rows = fleet_summary({"failed": True, "msg": "Sign-in failed: AADSTS7000215 invalid client secret.",
                          "error": {"status": 401}})
    assert len(rows) == 1 and not rows[0]["ok"] and rows[0]["reason"].startswith("Sign-in failed")
    assert fleet_summary_counts(rows)["failed"] == 1


def test_the_input_is_not_changed():
    result = quarantine()
    before = copy.deepcopy(result)
    fleet_summary(result)
    fleet_summary_lines(result)
    fleet_summary([{"step": "q", "result": result}], by="device")
    assert result == before


@pytest.mark.parametrize("data,kwargs,message", [
    (None, {}, "the input is empty"),
    ("text", {}, "expects a registered fleet result"),
    ([{"result": {}}], {}, "needs a 'step' name"),
    (quarantine(), {"by": "host"}, "by must be"),
    (quarantine(), {"machine": "id"}, "machine must be"),
    (quarantine(), {"words": {"finished": "x"}}, "unknown outcomes finished"),
    (quarantine(), {"by": "device"}, "needs named steps"),
    ({"ok": quarantine(), "reason": quarantine()}, {"by": "device"}, "step names must be unique and not"),
    ({"cancel": cancel()}, {"by": "device"}, "more than one row for device"),
    ({"q": "text"}, {}, "not a registered result"),
])
def test_bad_input_is_refused_with_a_message(data, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet_summary(data, **kwargs)


def test_each_filter_is_registered_by_its_own_file():
    for plugin, name in ((summary_plugin, "fleet_summary"), (lines_plugin, "fleet_summary_lines"),
                         (counts_plugin, "fleet_summary_counts")):
        assert list(plugin.FilterModule().filters()) == [name]


def test_through_templates_as_a_play_uses_them_rows_of_rows_included():
    """On ansible-core 2.19 and later a filter gets lazy containers, which cannot be rebuilt as they are."""
    templar = Templar(loader=DataLoader(), variables={"result": live_response_result()})
    rows = templar.template(trusted("{{ result | secops.defender.fleet_summary(machine='given') }}"))
    templar = Templar(loader=DataLoader(), variables={"rows": rows, "result": live_response_result()})
    nested = templar.template(trusted(
        "{{ [{'step': 'forensics', 'result': rows}, {'step': 'again', 'result': result}]"
        " | secops.defender.fleet_summary(by='device', machine='given', nest=true) }}"))
    assert nested[0]["forensics"]["files"][0]["name"] == "triage.txt"
    assert nested[0]["again"]["directory"] == nested[0]["forensics"]["directory"]
    lines = templar.template(trusted("{{ [{'step': 'forensics', 'result': rows}] | secops.defender.fleet_summary_lines }}"))
    assert lines[-1] == "2 device(s): 1 ok, 1 failed; forensics: 1 submitted, 1 failed"
    counts = templar.template(trusted("{{ rows | secops.defender.fleet_summary_counts }}"))
    assert counts["failed_machines"] == [OFF]
