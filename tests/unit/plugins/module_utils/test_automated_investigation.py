"""Automated investigations against the emulator over real HTTPS: reuse of open ones, waiting with one list query per
poll, the platform refusal, and no duplicate after a start whose outcome was unknown."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._automated_investigation import (
    InvestigationStarter,
    read_investigations,
    start_investigations,
)
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetRequest
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks

from .conftest import READER, WS1

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
LINUX = "3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


def request(targets, **settings):
    pairs = [(t, "id" if len(t) == 40 else "name") for t in targets]
    settings.setdefault("single", len(targets) == 1)
    return FleetRequest(pairs, **settings)


def investigations(control):
    return control("GET", "/state")["investigations"]


def test_check_mode_sends_nothing_and_a_rerun_reuses(client, control):
    control("DELETE", "/log")
    dry = start_investigations(client, request([WS1], check_mode=True), "ticket 1")
    assert dry["changed"] and dry["summary"]["would_start"] == 1 and dry["investigation_id"] is None
    assert control.api_calls(method="POST") == [] and investigations(control) == []
    first = start_investigations(client, request([WS1], wait=False), "ticket 1")
    assert first["changed"] and first["state"] == "Queued" and not first["reused"]
    again = start_investigations(client, request([WS1], wait=False), "ticket 1")
    assert not again["changed"] and again["reused"] and again["investigation_id"] == first["investigation_id"]
    assert len(control.api_calls(method="POST", contains="startInvestigation")) == 1
    assert [i["comment"] for i in investigations(control)] == ["ticket 1"]


def test_wait_polls_the_list_and_judges_the_outcome(client, control, fast):
    control("DELETE", "/log")
    with pytest.raises(DefenderActionError) as failed:
        start_investigations(client, request([WS1, WS2, "srv-web-01"], poll_interval=5), "sweep")
    result = failed.value.result
    states = [r["state"] for r in result["results"]]
    assert states == ["Benign", "Failed", None]
    assert result["failed_machines"] == [WS2, "srv-web-01"]
    linux = result["results"][2]
    assert linux["error"]["code"] == "OsPlatformNotSupported" and "Windows Server 2019" in linux["msg"]
    assert result["results"][1]["error"]["code"] == "Failed"
    gets = [c for c in control.api_calls(method="GET") if c["path"].startswith("/api/investigations/")]
    assert gets == []
    assert len([c for c in control.api_calls(method="GET") if c["path"] == "/api/investigations"]) >= 2


def test_unknown_outcome_is_looked_up_not_sent_again(client, control, tmp_path):
    control("POST", "/faults", {"kind": "drop_after", "method": "POST", "path": "startInvestigation"})
    locks = SubmitLocks(str(tmp_path / "locks"), "scope")
    result = start_investigations(client, request([WS1], wait=False, locks=locks), "lost answer")
    assert result["changed"] and result["investigation_id"]
    assert len(control.api_calls(method="POST", contains="startInvestigation")) == 1
    assert len(investigations(control)) == 1
    assert investigations(control)[0]["id"] == result["investigation_id"]


def test_read_by_id_by_alert_and_by_device(client, control):
    started = start_investigations(client, request([WS1, WS2], single=False, wait=False), "read me")
    ids = [r["investigation_id"] for r in started["results"]]
    alert = started["results"][0]["investigation"]["triggeringAlertId"]
    found, missing = read_investigations(client, ids=[ids[1], alert, "99999"])
    assert [i["id"] for i in found] == [ids[1], ids[0]] and missing == ["99999"]
    by_device, dummy = read_investigations(client, machine_ids=[WS2], states=["Queued"])
    assert [i["id"] for i in by_device] == [ids[1]]
    with pytest.raises(DefenderInputError):
        read_investigations(client, odata_filter="comment eq 'x'")


def test_a_missing_permission_says_what_to_grant(params, control):
    reader = build_client(dict(params, client_id=READER[0], client_secret=READER[1]))
    with pytest.raises(DefenderActionError) as failed:
        start_investigations(reader, request([WS1], wait=False), "no permission")
    assert "Alert.Read.All" in str(failed.value)
    assert failed.value.result["results"][0]["error"]["status"] == 403
    assert control.api_calls(method="POST") == []   # the failed look-up stops the device before any start


def test_a_start_that_was_never_made_is_sent_once_more(client, control, fast):
    """The first POST is dropped before the emulator processes it: the look-up finds nothing, so it is sent again."""
    control("POST", "/faults", {"kind": "drop", "method": "POST", "path": "startInvestigation"})
    result = start_investigations(client, request([WS1], wait=False), "dropped")
    assert result["changed"] and result["investigation_id"]
    assert len(control.api_calls(method="POST", contains="startInvestigation")) == 2
    assert [i["id"] for i in investigations(control)] == [result["investigation_id"]]


def test_a_parallel_task_that_started_one_meanwhile_is_reused(client, control, tmp_path):
    """Task B looks for open investigations, task A starts one, then B reaches the device's lock: it reads A's
    journal entry and reuses that investigation instead of starting a second."""
    locks = SubmitLocks(str(tmp_path / "locks"), "scope")
    late = InvestigationStarter(client, request([WS1], wait=False, locks=locks), "parallel")
    rows = late._resolve()
    late._find_open(rows)
    first = start_investigations(client, request([WS1], wait=False, locks=locks), "parallel")
    late._start_one(rows[0])
    assert rows[0].reused and not rows[0].changed
    assert rows[0].investigation["id"] == first["investigation_id"]
    assert len(control.api_calls(method="POST", contains="startInvestigation")) == 1
