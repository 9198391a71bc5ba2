"""The services behind the modules, against the emulator. Waiting is instant: `sleep` advances the emulated clock."""

import hashlib
import os

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _library, _quarantine
from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._live_response import live_response
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._waiter import last_update
from mde_emulator.state import deterministic_bytes

from .conftest import SHA1, WS1

OFFLINE = "4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
TRIAGE = "C:\\Windows\\Temp\\triage.txt"


def qrun(client, check_mode, sha1=SHA1, comment="c", machine_id=WS1, machine_name=None, machines=None, **kwargs):
    """The quarantine service as the module calls it, with explicit keyword arguments."""
    kwargs.setdefault("wait", False)
    kwargs.setdefault("wait_timeout", 600)
    kwargs.setdefault("poll_interval", 5)
    if machine_name or machines:
        machine_id = None
    return run_action(client, _quarantine.SPEC, _quarantine.options(sha1, comment),
                      target_list(machine_id, machine_name, machines), single=not machines, check_mode=check_mode,
                      **kwargs)


# --- quarantine ----------------------------------------------------------------------------------------
def test_quarantine_check_mode_then_real_then_idempotent(client, control):
    dry = qrun(client, True)
    assert dry["changed"] is True and dry["action_id"] is None
    assert control.api_calls("POST") == []
    real = qrun(client, False)
    assert real["changed"] is True and real["status"] == "Pending"
    again = qrun(client, False, sha1=SHA1.upper())
    assert again["changed"] is False and again["action_id"] == real["action_id"]
    assert len(control.api_calls("POST")) == 1
    assert [a["id"] for a in control("GET", "/state")["actions"]] == [real["action_id"]]


def test_quarantine_waits_for_success(client, control, fast):
    result = qrun(client, False, wait=True)
    assert result["status"] == "Succeeded"
    assert control("GET", "/state")["actions"][0]["status"] == "Succeeded"


def test_a_cancelled_match_does_not_count_and_force_submits_anyway(client, control):
    first = qrun(client, False)
    client.post("/api/machineactions/%s/cancel" % first["action_id"], {"Comment": "x"})
    second = qrun(client, False)
    assert second["changed"] is True and second["action_id"] != first["action_id"]
    forced = qrun(client, False, force=True)
    assert forced["changed"] is True and forced["action_id"] not in (first["action_id"], second["action_id"])
    assert len(control("GET", "/state")["actions"]) == 3


def test_dropped_connection_after_post_makes_no_duplicate(client, control):
    control("POST", "/faults", {"kind": "drop_after", "method": "POST", "path": "StopAndQuarantineFile"})
    result = qrun(client, False)
    actions = control("GET", "/state")["actions"]
    assert len(actions) == 1 and result["action_id"] == actions[0]["id"]
    assert len(control.api_calls("POST")) == 1


def test_server_error_before_processing_is_looked_up_then_sent_once_more(client, control):
    control("POST", "/faults", {"kind": "status", "status": 500, "method": "POST", "path": "StopAndQuarantineFile"})
    result = qrun(client, False)
    assert [c["status"] for c in control.api_calls("POST")] == [500, 201]
    assert [a["id"] for a in control("GET", "/state")["actions"]] == [result["action_id"]]


def test_offline_machine_times_out(client, control, fast):
    control("POST", "/settings", {"queue_limit_seconds": 7200})
    with pytest.raises(DefenderActionError) as info:
        qrun(client, False, machine_id=OFFLINE, wait=True, wait_timeout=10000, poll_interval=600)
    assert "TimeOut" in str(info.value) and "online" in str(info.value)
    assert info.value.result["status"] == "TimeOut" and info.value.result["machine_action"]["id"]


def test_wait_timeout_says_the_action_goes_on(client, control, fast):
    with pytest.raises(DefenderActionError) as info:
        qrun(client, False, machine_id=OFFLINE, wait=True, wait_timeout=60, poll_interval=10)
    assert "still Pending" in str(info.value) and "defender_cancel_action" in str(info.value)


def test_token_expiring_during_a_long_wait_is_refreshed(client, control, fast):
    control("POST", "/settings", {"token_lifetime_seconds": 600, "pending_seconds": 1500})
    result = qrun(client, False, wait=True, wait_timeout=4000, poll_interval=300)
    assert result["status"] == "Succeeded"
    assert len(control.sign_ins()) >= 2
    assert 401 in [c["status"] for c in control.api_calls("GET")]


def test_linux_machine_gets_a_clear_error(client):
    with pytest.raises(DefenderActionError) as info:
        qrun(client, False, machine_id="3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d")
    error = info.value.result["error"]
    assert error["code"] == "OsPlatformNotSupported" and error["correlation_id"] in str(info.value)
    assert "StopAndQuarantineFile on 3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d" in str(info.value)


def test_machine_names_resolve_or_explain(client, control):
    assert qrun(client, True, machine_id=None, machine_name="ws-fin-001")["machine_id"] == WS1
    with pytest.raises(DefenderActionError) as info:
        qrun(client, True, machine_id=None, machine_name="nope")
    assert "No machine named nope" in str(info.value)
    control("POST", "/seed", {"machines": [{"id": "9" * 40, "computerDnsName": "ws-fin-001.other.example.com"}]})
    with pytest.raises(DefenderActionError) as info:
        qrun(client, True, machine_id=None, machine_name="ws-fin-001")
    assert "matches 2 machines" in str(info.value) and WS1 in str(info.value)


# --- live response -------------------------------------------------------------------------------------
def lrrun(client, check_mode, tmp_path, commands=None, machine_id=WS1, machines=None, **kwargs):
    """The live response service as the module calls it, with explicit keyword arguments."""
    kwargs.setdefault("dest", str(tmp_path / "out"))
    kwargs.setdefault("poll_interval", 5)
    commands = commands or [
        {"type": "RunScript", "script_name": "collect_triage.ps1", "args": "-Full"},
        {"type": "GetFile", "path": TRIAGE},
        {"type": "GetFile", "path": "C:\\Users\\alice\\Downloads\\invoice.pdf.exe"},
    ]
    return live_response(client, commands, kwargs.pop("comment", "triage"),
                         target_list(None if machines else machine_id, None, machines), single=not machines,
                         check_mode=check_mode, **kwargs)


def test_live_response_brings_results_home(client, control, fast, tmp_path):
    result = lrrun(client, False, tmp_path)
    assert result["status"] == "Succeeded" and result["all_succeeded"] is True
    script = result["commands"][0]
    assert script["exit_code"] == 0 and script["script_output"] == "triage collected"
    triage = result["files"][0]
    expected = deterministic_bytes("%s:%s" % (WS1, TRIAGE.lower()), 200000)
    assert triage["sha256"] == hashlib.sha256(expected).hexdigest() and triage["size"] == 200000
    assert triage["unpacked"] is True and os.path.basename(triage["path"]) == "triage.txt"
    with open(triage["path"], "rb") as handle:
        assert handle.read() == expected
    assert os.path.basename(result["files"][1]["path"]) == "invoice.pdf.exe"
    assert sorted(os.listdir(str(tmp_path / "out"))) == ["invoice.pdf.exe", "triage.txt"]
    assert control("GET", "/state")["leaks"] == []


def test_live_response_check_mode_posts_nothing(client, control, tmp_path):
    result = lrrun(client, True, tmp_path)
    assert result["changed"] is True and result["action_id"] is None
    assert control.api_calls("POST") == []
    with pytest.raises(DefenderInputError) as info:
        lrrun(client, True, tmp_path, [{"type": "RunScript", "script_name": "missing.ps1"}])
    assert "missing.ps1" in str(info.value) and "defender_library_file" in str(info.value)


def test_failing_script_fails_but_returns_results(client, control, fast, tmp_path):
    commands = [{"type": "RunScript", "script_name": "fail.ps1"}]
    with pytest.raises(DefenderActionError) as info:
        lrrun(client, False, tmp_path, commands)
    assert "fail.ps1 exited 3: Access is denied." in str(info.value)
    assert info.value.result["commands"][0]["exit_code"] == 3
    control("POST", "/clock", {"advance": 60})
    relaxed = lrrun(client, False, tmp_path, commands, fail_on_script_error=False)
    assert relaxed["all_succeeded"] is False and relaxed["commands"][0]["exit_code"] == 3
    # Not a failure, but said: the message names the script and its exit, and the summary counts it.
    assert "fail.ps1 exited 3: Access is denied" in relaxed["msg"] and "fail_on_script_error=false" in relaxed["msg"]
    assert relaxed["results"][0]["msg"] == relaxed["msg"]
    assert relaxed["summary"]["failed"] == 0 and relaxed["summary"]["script_errors"] == 1


def test_failing_script_on_a_fleet_is_counted_and_named(client, control, fast, tmp_path):
    commands = [{"type": "RunScript", "script_name": "fail.ps1"}]
    result = lrrun(client, False, tmp_path, commands, machines=[WS1, "ws-fin-002.corp.example.com"],
                   fail_on_script_error=False)
    assert result["summary"]["script_errors"] == 2 and result["summary"]["failed"] == 0
    assert result["failed_machines"] == []
    assert all("fail.ps1 exited 3" in row["msg"] for row in result["results"])
    assert result["msg"].startswith("2 of 2 device(s) ended with a script error, not counted as failed: ")
    assert "ws-fin-002.corp.example.com: Live response" in result["msg"]
    # A clean session counts no script error.
    clean = lrrun(client, False, tmp_path, [{"type": "RunScript", "script_name": "collect_triage.ps1"}],
                  machines=[WS1], fail_on_script_error=False)
    assert clean["summary"]["script_errors"] == 0 and "msg" not in clean


def test_failed_command_stops_the_rest(client, fast, tmp_path):
    commands = [{"type": "RunScript", "script_name": "collect_triage.ps1"}, {"type": "GetFile", "path": "C:\\nope"}]
    with pytest.raises(DefenderActionError) as info:
        lrrun(client, False, tmp_path, commands)
    result = info.value.result
    assert result["status"] == "Failed"
    assert [c["status"] for c in result["commands"]] == ["Completed", "Failed"]
    assert "not found" in str(info.value)


def test_busy_machine_fails_naming_the_running_action(client, control, tmp_path):
    running = client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "other", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]})
    with pytest.raises(DefenderActionError) as info:
        lrrun(client, False, tmp_path)
    assert running["id"] in str(info.value) and "on_active_action=wait" in str(info.value)
    assert info.value.result["error"]["code"] == "ActiveRequestAlreadyExists"


def test_busy_machine_waits_when_asked(client, control, fast, tmp_path):
    running = client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "other", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]})
    result = lrrun(client, False, tmp_path, on_active_action="wait")
    assert result["status"] == "Succeeded" and result["action_id"] != running["id"]
    posts = control.api_calls("POST", "runliveresponse")
    statuses = [c["status"] for c in posts]
    if statuses == [201, 201]:
        # On a busy machine the other session (on the fast clock) may end before this one is sent: then nothing
        # was refused, and what must hold is that it had ended when the second POST came.
        other = client.get("/api/machineactions/%s" % running["id"])
        assert other["status"] == "Succeeded", other
        ended = instant(last_update(other))                  # 100 ns ticks; the log's clock is in seconds
        assert ended <= posts[1]["clock"] * 10 ** 7, (other, posts[1]["clock"])
    else:
        assert statuses == [201, 400, 201]


def test_expired_result_link_is_asked_for_again(client, control, fast, tmp_path):
    control("POST", "/faults", {"kind": "status", "status": 403, "host": "blob", "path": "/blobs/liveresponse/.*/1"})
    result = lrrun(client, False, tmp_path)
    assert result["files"][0]["size"] == 200000
    assert len(control.api_calls("GET", "index=1")) == 2


def test_collisions_in_one_run_do_not_overwrite(client, control, fast, tmp_path):
    control("POST", "/seed", {"machines": [{"id": WS1, "computerDnsName": "ws-fin-001.corp.example.com",
                                            "files": {"C:\\a\\log.txt": {"size": 10}, "C:\\b\\log.txt": {"size": 20}}}]})
    commands = [{"type": "GetFile", "path": "C:\\a\\log.txt"}, {"type": "GetFile", "path": "C:\\b\\log.txt"}]
    result = lrrun(client, False, tmp_path, commands)
    assert [os.path.basename(f["path"]) for f in result["files"]] == ["log.txt", "log-1.txt"]
    assert [f["size"] for f in result["files"]] == [10, 20]


def test_action_subdir_keeps_sessions_apart(client, fast, tmp_path):
    commands = [{"type": "GetFile", "path": "C:\\Windows\\Temp\\dropper.log"}]
    first = lrrun(client, False, tmp_path, commands, action_subdir=True)
    second = lrrun(client, False, tmp_path, commands, action_subdir=True)
    for result in (first, second):
        assert result["files"][0]["path"] == str(tmp_path / "out" / result["action_id"] / "dropper.log")


def test_getfile_needs_a_dest(client, tmp_path):
    with pytest.raises(DefenderInputError):
        lrrun(client, False, tmp_path, dest=None)


# --- cancel --------------------------------------------------------------------------------------------
def test_cancel_pending_and_final(client, control):
    service = ActionService(client)
    pending = client.post("/api/machines/%s/StopAndQuarantineFile" % OFFLINE, {"Comment": "c", "Sha1": SHA1})
    changed, action = service.cancel(pending, "stop")
    assert changed is True and action["status"] == "Cancelled"
    changed, action = service.cancel(service.get(pending["id"]), "stop")
    assert changed is False
    assert len(control.api_calls("POST", "/cancel")) == 1


def test_cancel_race_with_completion_reports_the_truth(client, control):
    service = ActionService(client)
    created = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "c", "Sha1": SHA1})
    read = service.get(created["id"])
    control("POST", "/clock", {"advance": 60})  # it finishes after we read it
    changed, action = service.cancel(read, "too late")
    assert changed is False and action["status"] == "Succeeded"
    assert [c["status"] for c in control.api_calls("POST", "/cancel")] == [400]


# --- library -------------------------------------------------------------------------------------------
def libparams(src, **kwargs):
    base = {"src": str(src), "name": None, "description": "d", "has_parameters": False,
            "parameters_description": "", "state": "present"}
    base.update(kwargs)
    return base


def test_library_is_idempotent_by_content(client, control, tmp_path):
    src = tmp_path / "hunt.ps1"
    src.write_text("Get-Process\n")
    dry = _library.run(client, libparams(src), True)
    assert dry["changed"] is True and control.api_calls("POST") == []
    assert dry["diff"]["before"] == {} and dry["diff"]["after"]["sha256"] == hashlib.sha256(b"Get-Process\n").hexdigest()
    assert _library.run(client, libparams(src), False)["changed"] is True
    assert _library.run(client, libparams(src), False)["changed"] is False
    src.write_text("Get-Service\n")
    changed = _library.run(client, libparams(src), False)
    assert changed["changed"] is True and changed["diff"]["before"]["sha256"] != changed["diff"]["after"]["sha256"]
    assert _library.run(client, libparams(src, description="new"), False)["changed"] is True
    assert len(control.api_calls("POST", "/api/libraryfiles")) == 3
    entry = [f for f in control("GET", "/state")["library"] if f["fileName"] == "hunt.ps1"][0]
    assert entry["sha256"] == hashlib.sha256(b"Get-Service\n").hexdigest() and entry["description"] == "new"


def test_library_absent(client, control, tmp_path):
    params = {"src": None, "name": "fail.ps1", "description": "", "has_parameters": False,
              "parameters_description": "", "state": "absent"}
    assert _library.run(client, params, True)["changed"] is True
    assert _library.run(client, params, False)["changed"] is True
    assert _library.run(client, params, False)["changed"] is False
    assert "fail.ps1" not in [f["fileName"] for f in control("GET", "/state")["library"]]
    assert len(control.api_calls("DELETE")) == 1


def test_library_refuses_a_file_over_20_mb_before_uploading(client, control, tmp_path):
    big = tmp_path / "big.bin"
    with open(str(big), "wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    with pytest.raises(DefenderInputError) as info:
        _library.run(client, libparams(big), False)
    assert "20 MB" in str(info.value)
    assert control.api_calls("POST") == []


def test_putfile_runs_first_and_has_no_result_to_fetch(client, control, fast, tmp_path):
    commands = [{"type": "PutFile", "file_name": "collect_triage.ps1"},
                {"type": "RunScript", "script_name": "collect_triage.ps1"}]
    result = lrrun(client, False, tmp_path, commands)
    assert [c["status"] for c in result["commands"]] == ["Completed", "Completed"]
    assert "exit_code" not in result["commands"][0] and result["commands"][1]["exit_code"] == 0
    assert len(control.api_calls("GET", "GetLiveResponseResultDownloadLink")) == 1
    assert result["files"] == []


# --- cancel many, and the actions of many devices -------------------------------------------------------
def test_many_actions_are_read_cancelled_and_waited_for_in_list_queries(client, control, fast):
    from ansible_collections.secops.defender.plugins.module_utils._cancel import cancel_actions
    machines = [{"id": "%040x" % (0xcace00 + i), "computerDnsName": "cancel-%02d.corp.example.com" % i,
                 "osPlatform": "Windows11", "online": False} for i in range(25)]   # never pick it up
    control("POST", "/seed", {"machines": machines})
    opened = [client.post("/api/machines/%s/StopAndQuarantineFile" % m["id"], {"Comment": "c", "Sha1": SHA1})
              for m in machines]
    done = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "c", "Sha1": SHA1})
    control("POST", "/clock", {"advance": 60})   # WS1 is online: its action has ended
    ids = [a["id"] for a in opened] + [done["id"]]
    dry = cancel_actions(client, ids, "INC-1", check_mode=True)
    assert dry["summary"] == {"actions": 26, "would_cancel": 25, "already_final": 1, "cancelled": 0, "failed": 0}
    assert control.api_calls("POST", "/cancel") == []
    gets = control.api_calls("GET", "/api/machineactions")
    assert len(gets) == 2                                    # 26 ids, 20 per list query: no GET per action
    real = cancel_actions(client, ids, "INC-1", wait=True, wait_timeout=120, poll_interval=5)
    assert real["summary"]["cancelled"] == 25 and real["failed_actions"] == []
    state = dict((a["id"], a["status"]) for a in control("GET", "/state")["actions"])
    assert [state[i] for i in ids] == ["Cancelled"] * 25 + ["Succeeded"]
    assert len(control.api_calls("POST", "/cancel")) == 25
    polls = [c for c in control.api_calls("GET", "/api/machineactions") if "/api/machineactions/" not in c["path"]]
    assert all(c["path"] == "/api/machineactions" for c in polls)
    again = cancel_actions(client, ids, "INC-1")
    assert again["changed"] is False and again["summary"]["already_final"] == 26
    assert len(control.api_calls("POST", "/cancel")) == 25


def test_an_unknown_action_id_fails_its_row_and_the_task(client, control):
    from ansible_collections.secops.defender.plugins.module_utils._cancel import cancel_actions
    unknown = "7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01"
    with pytest.raises(DefenderActionError) as info:
        cancel_actions(client, [unknown], "x")
    assert info.value.result["failed_actions"] == [unknown] and "No machine action" in str(info.value)
    relaxed = cancel_actions(client, [unknown], "x", fail_on_action_error=False)
    assert relaxed["summary"]["failed"] == 1 and control.api_calls("POST") == []
    with pytest.raises(DefenderInputError):
        cancel_actions(client, ["not-a-guid"], "x")


def test_the_actions_of_a_fleet_come_from_one_list_query_per_20_devices(client, control):
    from ansible_collections.secops.defender.plugins.modules.defender_machine_action_info import fleet_actions
    machines = [{"id": "%040x" % (0xf1ee00 + i), "computerDnsName": "open-%02d.corp.example.com" % i,
                 "osPlatform": "Windows11", "online": False} for i in range(30)]
    control("POST", "/seed", {"machines": machines})
    for machine in machines[:10]:
        client.post("/api/machines/%s/StopAndQuarantineFile" % machine["id"], {"Comment": "c", "Sha1": SHA1})
    before = len(control.api_calls("GET"))
    params = {"machines": [m["id"] for m in machines] + ["open-05", "no-such-host"], "type": None,
              "status": ["Pending", "InProgress"], "requestor": None, "filter": None, "limit": None}
    result = fleet_actions(client, params, ActionService(client))
    assert result["count"] == 10 and result["failed_machines"] == ["no-such-host"]
    assert [r["actions"] for r in result["results"][:12]] == [1] * 10 + [0, 0]
    assert result["results"][30]["machine_id"] == machines[5]["id"]     # the name found by one bulk query
    calls = control.api_calls("GET")[before:]
    assert len([c for c in calls if c["path"] == "/api/machineactions"]) == 2   # 30 devices: 2 queries


def test_a_refusal_whose_busy_action_has_ended_is_sent_once_more(client, control, fast, tmp_path):
    # The device was busy when the POST arrived, and that action ended before the look-up ran (a short session, a
    # slow controller): nothing is running any more, so the refusal is stale and the same POST goes out again.
    control("POST", "/faults", {"kind": "status", "status": 400, "code": "ActiveRequestAlreadyExists",
                                "method": "POST", "path": "runliveresponse$", "count": 1})
    result = lrrun(client, False, tmp_path)
    assert result["status"] == "Succeeded"
    assert [c["status"] for c in control.api_calls("POST", "runliveresponse")] == [400, 201]


def test_a_refusal_repeated_with_nothing_visible_fails_after_one_resend(client, control, fast, tmp_path):
    # Refused twice while the API lists nothing running (an action only the portal shows): the task fails, naming
    # that, after exactly two POSTs; it never loops.
    control("POST", "/faults", {"kind": "status", "status": 400, "code": "ActiveRequestAlreadyExists",
                                "method": "POST", "path": "runliveresponse$", "count": 5})
    with pytest.raises(DefenderActionError) as info:
        lrrun(client, False, tmp_path, on_active_action="wait")
    assert "not visible to the API" in str(info.value)
    assert [c["status"] for c in control.api_calls("POST", "runliveresponse")] == [400, 400]
