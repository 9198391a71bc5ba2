"""The HTTP client against the emulator: retries, refresh, paging, errors, TLS verification, the blob host."""

import io

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderApiError,
    DefenderAuthError,
    DefenderForbiddenError,
    DefenderNotFoundError,
    DefenderOutcomeUnknownError,
    DefenderRateLimitError,
    DefenderTransportError,
    DefenderUnsafeResponseError,
)
from ansible_collections.secops.defender.plugins.module_utils import _client
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client

from .conftest import READER, SHA1, WS1

QUARANTINE = "/api/machines/%s/StopAndQuarantineFile" % WS1


def test_retry_after_is_honoured(client, control, monkeypatch):
    chosen = []

    def delay(retry_after, attempt, original=_client.rate_limit_delay):
        chosen.append(original(retry_after, attempt))
        return chosen[-1]

    monkeypatch.setattr(_client, "rate_limit_delay", delay)
    client.get("/api/machines")  # sign in outside the measured calls
    control("DELETE", "/log")
    control("POST", "/faults", {"kind": "status", "status": 429, "retry_after": 1, "count": 2,
                                "path": "/api/machines$"})
    assert client.get("/api/machines")["value"]
    calls = control.api_calls("GET", "/api/machines")
    assert [c["status"] for c in calls] == [429, 429, 200]
    # Each resend reached the emulator at least Retry-After (1 s) after the 429 it answers, by the emulator's own
    # log (a busy machine makes the gap longer, never shorter)...
    assert all(later["time"] - earlier["time"] >= 1.0 for earlier, later in zip(calls, calls[1:]))
    # ...and the client meant to wait Retry-After and its jitter (0.1 * 1 s + 0.25 s at most), no more: how long
    # the machine then took to wake it is not the client's doing, so it is not timed here.
    assert len(chosen) == 2 and all(1.0 <= d <= 1.35 for d in chosen), chosen


def test_rate_limit_beyond_the_budget_fails_at_once(params, control):
    params["max_retry_wait"] = 2
    client = build_client(params)
    slept = []
    client._sleep = slept.append
    control("POST", "/faults", {"kind": "status", "status": 429, "retry_after": 30, "path": "/api/machines$"})
    with pytest.raises(DefenderRateLimitError) as info:
        client.get("/api/machines")
    # At once: a Retry-After (30 s) beyond max_retry_wait (2 s) is neither waited for nor tried again. Stated by
    # what the client did, not by a wall clock, which a busy machine slows.
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")] == [429]
    assert slept == []
    assert "max_retry_wait" in str(info.value)


def test_no_wait_allowed_means_one_429_and_no_resend(params, control):
    # max_retry_wait 0 bounds the budget's pause to nothing: the 429 must then end the call, not be resent at once
    # for as long as the budget's windows have room (a burst of 429s that spends the tenant's calls).
    params["max_retry_wait"] = 0
    client = build_client(params)
    client.get("/api/machines/%s" % WS1)  # sign in outside the measured calls
    control("DELETE", "/log")
    control("POST", "/faults", {"kind": "status", "status": 429, "retry_after": 1, "path": "/api/machines$"})
    with pytest.raises(DefenderRateLimitError) as info:
        client.get("/api/machines")
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")] == [429]
    assert "max_retry_wait" in str(info.value)


def test_unsafe_post_is_not_retried_on_5xx(client, control):
    control("POST", "/faults", {"kind": "status", "status": 500, "method": "POST", "path": "StopAndQuarantineFile"})
    with pytest.raises(DefenderOutcomeUnknownError):
        client.post(QUARANTINE, {"Comment": "c", "Sha1": SHA1})
    assert len(control.api_calls("POST", "StopAndQuarantineFile")) == 1


def test_unsafe_post_is_not_retried_after_a_dropped_connection(client, control):
    control("POST", "/faults", {"kind": "drop_after", "method": "POST", "path": "StopAndQuarantineFile"})
    with pytest.raises(DefenderOutcomeUnknownError):
        client.post(QUARANTINE, {"Comment": "c", "Sha1": SHA1})
    assert len(control.api_calls("POST", "StopAndQuarantineFile")) == 1
    assert len(control("GET", "/state")["actions"]) == 1


def test_safe_get_is_retried_on_5xx_and_drops(client, control):
    control("POST", "/faults", {"kind": "status", "status": 503, "path": "/api/machines$"})
    control("POST", "/faults", {"kind": "drop", "path": "/api/machines$"})
    assert client.get("/api/machines")["value"]
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")] == [503, "dropped", 200]


def test_a_401_refreshes_the_token_once(client, control):
    client.get("/api/machines")
    control("POST", "/tokens/expire")
    assert client.get("/api/machines")["value"]
    assert len(control.sign_ins()) == 2
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")] == [200, 401, 200]


def test_a_second_401_is_an_auth_error(params, control):
    client = build_client(dict(params, access_token="not-a-token", auth_method="access_token"))
    with pytest.raises(DefenderAuthError) as info:
        client.get("/api/machines")
    assert info.value.status == 401
    assert "expired" in str(info.value)


def test_paging_follows_next_link(client, control):
    control("POST", "/settings", {"page_size": 3})
    for index in range(7):
        client.post(QUARANTINE, {"Comment": "c%d" % index, "Sha1": SHA1})
    items = client.paged("/api/machineactions")
    assert len(items) == 7 and len(set(i["id"] for i in items)) == 7
    assert len(control.api_calls("GET", "/api/machineactions")) == 3
    assert len(client.paged("/api/machineactions", limit=4)) == 4


def test_paging_by_skip_when_there_is_no_next_link(client, control):
    for index in range(5):
        client.post(QUARANTINE, {"Comment": "c%d" % index, "Sha1": SHA1})
    items = client.paged("/api/machineactions", page_size=2)
    assert len(items) == 5
    skips = [c["query"].get("$skip", "0") for c in control.api_calls("GET", "/api/machineactions")]
    assert skips == ["0", "2", "4"] or skips[1:] == ["2", "4"]


def test_paging_stops_on_a_repeating_next_link(client, control):
    control("POST", "/settings", {"page_size": 2, "nextlink_repeats": True})
    for index in range(5):
        client.post(QUARANTINE, {"Comment": "c%d" % index, "Sha1": SHA1})
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.paged("/api/machineactions")
    assert info.value.code == "PagingLoop" and "repeats an earlier page" in str(info.value)
    assert len(control.api_calls("GET", "/api/machineactions")) == 2


def test_errors_carry_code_message_and_correlation_id(client):
    with pytest.raises(DefenderNotFoundError) as info:
        client.get("/api/machines/unknown")
    error = info.value
    assert error.status == 404 and error.code == "ResourceNotFound" and error.correlation_id
    assert error.correlation_id in str(error)
    with pytest.raises(DefenderApiError) as info:
        client.post(QUARANTINE, {"Comment": "c", "Sha1": "nope"})
    assert info.value.code == "InvalidHashValue"
    assert info.value.to_dict()["path"] == QUARANTINE


def test_forbidden_names_the_permission(params):
    client = build_client(dict(params, client_id=READER[0], client_secret=READER[1]))
    with pytest.raises(DefenderForbiddenError) as info:
        client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "c", "Commands": []})
    assert "Machine.LiveResponse" in str(info.value)


def test_malformed_body_is_a_transport_error_once_retries_are_spent(client, control):
    client.get("/api/machines")
    client._sleep = lambda seconds: None
    control("POST", "/faults", {"kind": "malformed", "path": "/api/machines$", "count": 5})
    with pytest.raises(DefenderTransportError) as info:
        client.get("/api/machines")
    assert "not JSON" in str(info.value)


def test_verify_holds_when_requests_ca_bundle_is_set(params, monkeypatch):
    # The system bundle does not trust the emulator's CA; if it won, both sign-in and the API call would fail.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert build_client(params).get("/api/machines")["value"]


def test_without_the_ca_verification_fails_clearly(params):
    params.pop("ca_path")
    with pytest.raises(DefenderTransportError) as info:
        build_client(params).get("/api/machines")
    assert "TLS" in str(info.value)


def test_token_goes_to_the_api_host_only(client, control):
    client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "c", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]})
    control("POST", "/clock", {"advance": 30})
    action = client.get("/api/machineactions")["value"][0]
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action["id"])["value"]
    with pytest.raises(DefenderTransportError):
        client.get(link)  # the client refuses to send its token to another host
    sink = io.BytesIO()
    assert client.download(link, sink) > 0
    assert b"exit_code" in sink.getvalue()
    assert control("GET", "/state")["leaks"] == []
    assert [e["authorization"] for e in control.log("blob")] == [False]


def test_errors_never_show_a_sas_query(client, control):
    client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "c", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]})
    control("POST", "/clock", {"advance": 30})
    action = client.get("/api/machineactions")["value"][0]
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action["id"])["value"]
    control("POST", "/clock", {"advance": 3600})
    with pytest.raises(DefenderApiError) as info:
        client.download(link, io.BytesIO())
    assert info.value.status == 403
    assert "sig=" not in str(info.value) and "?" not in info.value.path


def galaxy_version():
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), *([os.pardir] * 4))
    with open(os.path.join(root, "galaxy.yml")) as handle:
        return re.search(r"^version:\s*(\S+)", handle.read(), re.M).group(1)


def test_the_version_in_code_is_galaxy_yml_s():
    from ansible_collections.secops.defender.plugins.module_utils._version import COLLECTION_VERSION
    assert COLLECTION_VERSION == galaxy_version()


def test_user_agent_names_the_collection(client, control):
    client.get("/api/machines")
    assert control.api_calls("GET")[0]["user_agent"].startswith("secops.defender/%s " % galaxy_version())


def test_connection_failures_are_retried_a_bounded_number_of_times(client, control, monkeypatch):
    monkeypatch.setattr(client, "_sleep", lambda seconds: None)
    client.get("/api/machines")
    control("POST", "/faults", {"kind": "drop", "path": "/api/machines$", "count": 50})
    with pytest.raises(DefenderTransportError):
        client.get("/api/machines")
    assert len(control.api_calls("GET", "/api/machines")) == 1 + 5
