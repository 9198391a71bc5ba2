"""Faults on every HTTP exchange (API, sign-in, result downloads), over real HTTPS against the emulator.

Each test injects its faults through the emulator's control API and then checks the emulator's request log, not
only what the client said. Backoff sleeps are skipped (the emulator's clock is stopped in these tests)."""

import os

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderAuthError,
    DefenderInputError,
    DefenderOutcomeUnknownError,
    DefenderTransportError,
)
from ansible_collections.secops.defender.plugins.module_utils._live_response import fetch_results
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client

from .conftest import WS1
from .test_services import TRIAGE, lrrun


@pytest.fixture
def quick(client):
    """The client with its backoff sleeps (API, downloads and sign-in) recorded instead of slept."""
    slept = []
    client._sleep = slept.append
    client.tokens.http_client._sleep = slept.append
    client.slept = slept
    return client


def blob_log(control):
    return control.log("blob")


# --- API bodies ----------------------------------------------------------------------------------------------
def test_a_malformed_body_on_a_get_is_retried(quick, control):
    quick.get("/api/machines")
    control("DELETE", "/log")
    control("POST", "/faults", {"kind": "malformed", "path": "/api/machines$", "count": 2})
    assert quick.get("/api/machines")["value"]
    assert len(control.api_calls("GET")) == 3 and len(quick.slept) == 2


def test_a_body_that_stays_malformed_fails_clearly(quick, control):
    quick.get("/api/machines")
    control("POST", "/faults", {"kind": "malformed", "path": "/api/machines$", "count": 50})
    with pytest.raises(DefenderTransportError) as info:
        quick.get("/api/machines")
    message = str(info.value)
    assert "not JSON" in message and "5 attempts" in message and "GET /api/machines" in message


def test_a_malformed_answer_to_a_post_is_an_unknown_outcome_not_a_resend(quick, control):
    control("POST", "/faults", {"kind": "malformed", "path": "stopandquarantinefile", "count": 1})
    with pytest.raises(DefenderOutcomeUnknownError) as info:
        quick.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                   {"Comment": "c", "Sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"})
    assert "probably made" in str(info.value)
    assert len(control.api_calls("POST")) == 1
    assert len([a for a in control("GET", "/state")["actions"] if a["type"] == "StopAndQuarantineFile"]) == 1


def test_the_idempotent_cancel_is_retried_on_a_malformed_answer(quick, control):
    from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService
    control("POST", "/machines/%s/online" % WS1, {"online": False})
    action = quick.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                        {"Comment": "c", "Sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"})
    control("POST", "/faults", {"kind": "malformed", "path": "/cancel$", "count": 1})
    # The first cancel was carried out but its answer garbled; the retry finds the action final and reads it.
    dummy, cancelled = ActionService(quick).cancel(action, "stop")
    assert cancelled["status"] == "Cancelled"
    assert len(control.api_calls("POST", "/cancel")) == 2


# --- sign-in -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 500}, {"kind": "status", "status": 503}, {"kind": "status", "status": 429},
    {"kind": "drop"}, {"kind": "malformed"},
])
def test_a_transient_sign_in_fault_is_retried(quick, control, fault):
    control("POST", "/faults", dict(fault, path="/oauth2/v2.0/token$", count=1))
    assert quick.get("/api/machines")["value"]
    assert len(control.sign_ins()) == 2 and quick.tokens.http_client.retries == 1


def test_a_sign_in_that_keeps_failing_is_a_clear_auth_error(quick, control):
    control("POST", "/faults", {"kind": "status", "status": 503, "path": "/oauth2/v2.0/token$", "count": 50})
    with pytest.raises(DefenderAuthError) as info:
        quick.get("/api/machines")
    message = str(info.value)
    assert "Sign-in failed" in message and "503" in message and "4 attempts" in message
    assert not control.api_calls()


def test_a_token_refresh_during_a_wait_survives_a_sign_in_fault(quick, control, fast):
    from ansible_collections.secops.defender.plugins.module_utils._actions import ActionService
    action = quick.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                        {"Comment": "c", "Sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"})
    control("POST", "/tokens/expire")
    control("POST", "/faults", {"kind": "status", "status": 500, "path": "/oauth2/v2.0/token$", "count": 1})
    done = ActionService(quick).wait(action, 600, 5)
    assert done["status"] == "Succeeded"
    assert [e["status"] for e in control.sign_ins()][-2:] == [500, 200]


# --- plain http ---------------------------------------------------------------------------------------------
def test_plain_http_is_refused_before_anything_is_sent(params, control):
    for key in ("api_url", "authority_url"):
        bad = dict(params, **{key: params[key].replace("https://", "http://")})
        with pytest.raises(DefenderInputError) as info:
            build_client(bad)
        assert "Refusing plain http" in str(info.value) and key in str(info.value)
    assert not control.log()


def test_plain_http_allowed_for_a_lab_warns(params):
    client = build_client(dict(params, api_url=params["api_url"].replace("https://", "http://"),
                               allow_insecure_http=True))
    assert any("allow_insecure_http" in w for w in client.warnings)


def test_a_managed_identity_endpoint_on_the_network_must_be_https(params, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://identity.example.com/msi/token")
    with pytest.raises(DefenderInputError):
        build_client(params)
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://169.254.169.254/metadata/identity/oauth2/token")
    build_client(params)


# --- result downloads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 500}, {"kind": "status", "status": 503}, {"kind": "status", "status": 429},
    {"kind": "drop"}, {"kind": "corrupt"}, {"kind": "malformed"},
])
def test_a_download_fault_is_retried_and_the_evidence_is_whole(quick, control, fast, tmp_path, fault):
    control("POST", "/faults", dict(fault, host="blob", count=1))
    result = lrrun(quick, False, tmp_path)
    assert result["status"] == "Succeeded" and result["all_succeeded"] is True
    triage = result["files"][0]
    assert triage["size"] == 200000
    assert sorted(os.listdir(str(tmp_path / "out"))) == sorted(os.path.basename(f["path"]) for f in result["files"])
    assert len(blob_log(control)) == 4  # script result, two files, one retry


def test_an_expired_link_is_replaced(quick, control, fast, tmp_path):
    control("POST", "/faults", {"kind": "status", "status": 403, "host": "blob", "count": 1})
    result = lrrun(quick, False, tmp_path)
    assert result["all_succeeded"] is True
    assert len(control.api_calls("GET", "GetLiveResponseResultDownloadLink")) == 4


def test_a_download_that_stays_corrupt_fails_keeps_nothing_and_can_be_fetched_again(quick, control, fast, tmp_path):
    dest = tmp_path / "out"
    control("POST", "/faults", {"kind": "corrupt", "host": "blob", "path": "/2$", "count": 50})
    with pytest.raises(DefenderActionError) as info:
        lrrun(quick, False, tmp_path)
    error = info.value
    action_id = error.result["action_id"]
    assert "could not be brought home" in str(error) and "action_id=%s" % action_id in str(error)
    assert "corrupt" in str(error)
    # The other commands' results are still there; the corrupt one left nothing, not even a .part file.
    assert error.result["commands"][0]["exit_code"] == 0
    assert [f["remote_path"] for f in error.result["files"]] == [TRIAGE]
    assert sorted(os.listdir(str(dest))) == ["triage.txt"]
    sessions = [a for a in control("GET", "/state")["actions"] if a["type"] == "LiveResponse"]
    assert len(sessions) == 1

    control("DELETE", "/faults")
    again = fetch_results(quick, action_id, dest=str(tmp_path / "again"))
    assert again["changed"] and again["action_id"] == action_id and len(again["files"]) == 2
    assert len([a for a in control("GET", "/state")["actions"] if a["type"] == "LiveResponse"]) == 1
    # Fetched again into the same folder: the same files are not written twice.
    twice = fetch_results(quick, action_id, dest=str(tmp_path / "again"))
    assert not twice["changed"] and [f["downloaded"] for f in twice["files"]] == [False, False]
    assert sorted(os.listdir(str(tmp_path / "again"))) == ["invoice.pdf.exe", "triage.txt"]
    # Into the folder where one file was missing: only that one is new.
    third = fetch_results(quick, action_id, dest=str(dest))
    assert third["changed"] and [f["downloaded"] for f in third["files"]] == [False, True]
    assert sorted(os.listdir(str(dest))) == ["invoice.pdf.exe", "triage.txt"]


def test_an_unreadable_script_result_is_a_failure_not_success(quick, control, fast, tmp_path):
    control("POST", "/faults", {"kind": "malformed", "host": "blob", "path": "/0$", "count": 50})
    with pytest.raises(DefenderActionError) as info:
        lrrun(quick, False, tmp_path)
    script = info.value.result["commands"][0]
    assert script["exit_code"] is None and "does not parse" in script["result_error"]
    assert info.value.result["all_succeeded"] is False


def test_fetch_results_checks_the_id_and_the_type(quick, control, fast):
    with pytest.raises(DefenderInputError):
        fetch_results(quick, "not-a-guid")
    action = quick.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                        {"Comment": "c", "Sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"})
    with pytest.raises(DefenderInputError) as info:
        fetch_results(quick, action["id"])
    assert "not a live response" in str(info.value)


def test_a_cached_token_that_was_revoked_too_is_replaced_by_a_sign_in(params, control):
    first, second = build_client(params), build_client(params)
    first.get("/api/machines")
    control("POST", "/tokens/expire")
    second.get("/api/machines")          # 401, then signs in and caches a new token
    control("POST", "/tokens/expire")    # ...which is revoked as well
    control("DELETE", "/log")
    assert first.get("/api/machines")["value"]
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")] == [401, 401, 200]
    assert len(control.sign_ins()) == 1


def test_a_garbled_getfile_download_is_not_evidence(quick, control, fast, tmp_path):
    """A 200 that claims JSON but does not parse, in place of a GetFile result (no Content-MD5 to compare)."""
    control("POST", "/faults", {"kind": "malformed", "host": "blob", "path": "/1$", "count": 1})
    result = lrrun(quick, False, tmp_path)
    triage = result["files"][0]
    assert triage["size"] == 200000 and triage["remote_path"] == TRIAGE
    assert [e["status"] for e in blob_log(control)] == [200, 200, 200, 200]  # the garbled one, then again


def test_every_transport_failure_has_a_code(quick, control):
    control("POST", "/faults", {"kind": "drop", "path": "/api/machines$", "count": 50})
    with pytest.raises(DefenderTransportError) as info:
        quick.get("/api/machines")
    assert info.value.code == "ConnectionFailed" and info.value.to_dict()["code"] == "ConnectionFailed"
    control("DELETE", "/faults")
    control("POST", "/faults", {"kind": "drop_after", "path": "stopandquarantinefile", "count": 1})
    with pytest.raises(DefenderOutcomeUnknownError) as unknown:
        quick.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                   {"Comment": "c", "Sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"})
    assert unknown.value.code == "ConnectionFailed" and str(unknown.value).count("..") == 0


def test_a_lost_answer_to_a_session_post_is_found_by_its_external_id_not_sent_again(quick, control, fast, tmp_path):
    control("POST", "/faults", {"kind": "drop_after", "path": "runliveresponse", "count": 1})
    result = lrrun(quick, False, tmp_path)
    sessions = [a for a in control("GET", "/state")["actions"] if a["type"] == "LiveResponse"]
    assert len(sessions) == 1 and result["action_id"] == sessions[0]["id"] and result["all_succeeded"]
    assert sessions[0]["externalID"].startswith("secops-defender:")
    assert len(control.api_calls("POST", "runliveresponse")) == 1


def test_an_echoed_external_id_decides_even_for_a_session_that_already_ended():
    from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine
    from ansible_collections.secops.defender.plugins.module_utils._live_response import SPEC
    engine = FleetEngine(None, SPEC, {"commands": [], "comment": "c"})
    body = {"Comment": "c", "ExternalID": "secops-defender:1"}
    ended = {"id": "a", "status": "Succeeded", "requestorComment": "c", "externalID": "secops-defender:1"}
    assert engine._is_ours(ended, body)
    assert not engine._is_ours(dict(ended, externalID="secops-defender:2", status="Pending"), body)
    assert not engine._is_ours(dict(ended, externalID=None), body)   # no echo: only a running one could be ours
    assert engine._is_ours(dict(ended, externalID=None, status="InProgress"), body)
