"""Rate limits, faults, the request log, the control API's own protection, and the command line."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from mde_emulator.seeding import load_seed
from mde_emulator.testclient import READER, SHA1, WS1, Client


def quarantine(client):
    return client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "c", "Sha1": SHA1})


# --- rate limits --------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_a_true_retry_after(client):
    client.headers()  # sign in first: sign-in is not rate limited, but keep the count exact
    # A window of 10 s: four calls take less on any machine, however busy (a 2 s window let a slow one's first
    # call leave it before the fourth, which was then answered 200).
    client.control("POST", "/settings", {"rate_limits": {"default": [[3, 10]]}})
    statuses = [client.get("/api/machines").status_code for dummy in range(3)]
    limited = client.get("/api/machines")
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "TooManyRequests"
    wait = int(limited.headers["Retry-After"])
    assert 1 <= wait <= 10
    time.sleep(wait)
    assert client.get("/api/machines").status_code == 200


def test_rate_limit_classes_are_separate(client):
    client.headers()
    client.control("POST", "/settings", {"rate_limits": {"default": [[100, 60]], "runliveresponse": [[1, 60]]}})
    assert client.live_response().status_code == 201
    limited = client.live_response(machine="ws-fin-002.corp.example.com")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 30
    assert client.get("/api/machines").status_code == 200


def test_package_uri_has_its_own_limit(client):
    client.control("POST", "/settings", {"rate_limits": {"getpackageuri": [[2, 60], [120, 3600]]}})
    action = client.post("/api/machines/%s/collectInvestigationPackage" % WS1, {"Comment": "c"}).json()
    codes = [client.get("/api/machineactions/%s/getPackageUri" % action["id"]).status_code for dummy in range(3)]
    assert codes == [404, 404, 429]


def test_rate_limits_are_per_app(emu):
    responder, reader = Client(emu), Client(emu, app=READER)
    responder.headers(), reader.headers()
    responder.control("POST", "/settings", {"rate_limits": {"default": [[1, 60]]}})
    assert responder.get("/api/machines").status_code == 200
    assert responder.get("/api/machines").status_code == 429
    assert reader.get("/api/machines").status_code == 200


# --- faults -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_faults_hit_the_next_n_matching_requests(client, status):
    client.control("POST", "/faults", {"kind": "status", "status": status, "count": 2, "path": "/api/machines$",
                                       "retry_after": 1})
    codes = [client.get("/api/machines").status_code for dummy in range(3)]
    assert codes == [status, status, 200]
    assert client.get("/api/machineactions").status_code == 200


@pytest.mark.parametrize("name, status, code", [("429", 429, "TooManyRequests"), ("500", 500, "InternalServerError"),
                                                ("503", 503, "ServiceUnavailable")])
def test_a_mix_answers_its_status_faults_as_the_api_would(client, name, status, code):
    # The API's own error body, never the server's crash page: a soak counts on telling the fault from a bug.
    client.control("POST", "/faults", {"kind": "mix", "rate": 1.0, "faults": {name: 1}, "count": 1,
                                       "path": "/api/machines$"})
    answer = client.get("/api/machines")
    assert answer.status_code == status and answer.json()["error"]["code"] == code
    assert client.get("/api/machines").status_code == 200


def test_a_status_fault_may_name_its_error(client):
    client.control("POST", "/faults", {"kind": "status", "status": 400, "code": "ActiveRequestAlreadyExists",
                                       "message": "busy", "path": "/api/machines$"})
    answer = client.get("/api/machines")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "ActiveRequestAlreadyExists"
    assert answer.json()["error"]["message"] == "busy"


def test_hang_fault_delays_the_answer(client):
    client.headers()
    client.control("POST", "/faults", {"kind": "hang", "delay": 1.5, "path": "/api/machines$"})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(client.info["api_url"] + "/api/machines", headers=client.headers(), verify=client.verify,
                     timeout=0.5)


def test_drop_fault_closes_without_an_answer(client):
    client.headers()
    client.control("POST", "/faults", {"kind": "drop", "path": "/api/machines$"})
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get("/api/machines")
    assert client.get("/api/machines").status_code == 200


def test_drop_after_processing_creates_the_action_but_no_answer(client):
    client.headers()
    client.control("POST", "/faults", {"kind": "drop_after", "method": "POST", "path": "StopAndQuarantineFile"})
    with pytest.raises(requests.exceptions.ConnectionError):
        quarantine(client)
    actions = client.get("/api/machineactions").json()["value"]
    assert len(actions) == 1
    dropped = [e for e in client.control("GET", "/log")["value"] if e.get("dropped")]
    assert dropped and dropped[0]["status"] == 201


def test_malformed_body_fault(client):
    client.control("POST", "/faults", {"kind": "malformed", "path": "/api/machines$"})
    response = client.get("/api/machines")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_rewrite_fault_answers_a_hostile_id_but_keeps_the_real_action(client):
    client.control("POST", "/faults", {"kind": "rewrite", "path": "runliveresponse$", "value": "../../x"})
    answer = client.live_response().json()
    assert answer["id"] == "../../x"
    real = client.get("/api/machineactions").json()["value"]
    assert len(real) == 1 and real[0]["id"] != "../../x"
    client.control("POST", "/faults", {"kind": "rewrite", "path": "/api/machines$", "field": "computerDnsName",
                                       "value": "..\\evil"})
    assert set(m["computerDnsName"] for m in client.get("/api/machines").json()["value"]) == {"..\\evil"}
    assert [e["rewritten"] for e in client.control("GET", "/log")["value"] if e.get("rewritten")] == \
        ["id", "computerDnsName"]


def test_blob_host_faults(client):
    body = client.live_response().json()
    client.control("POST", "/clock", {"advance": 10})
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % body["id"]).json()["value"]
    client.control("POST", "/faults", {"kind": "status", "status": 503, "host": "blob"})
    assert requests.get(link, verify=client.verify).status_code == 503
    assert requests.get(link, verify=client.verify).status_code == 200


# --- request log --------------------------------------------------------------------------------------
def test_request_log_records_what_tests_need_and_no_token(client):
    quarantine(client)
    entries = client.control("GET", "/log")["value"]
    token_entry = [e for e in entries if e["path"].endswith("/token")][0]
    assert token_entry["body"]["client_secret"] == "***"
    post = [e for e in entries if e["method"] == "POST" and "StopAndQuarantineFile" in e["path"]][0]
    assert post["status"] == 201
    assert post["authorization"] is True
    assert post["body"] == {"Comment": "c", "Sha1": SHA1}
    assert post["app"] == "11111111-1111-4111-8111-111111111111"
    assert "error" not in post
    for dummy in range(2):   # a second isolation while the first is pending: refused, and the log says how
        client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Full"})
    isolations = [e for e in client.control("GET", "/log")["value"] if e["path"].endswith("/isolate")]
    assert [(e["status"], e.get("error")) for e in isolations] == [(201, None), (400, "ActiveRequestAlreadyExists")]
    dump = json.dumps(entries)
    assert client.headers()["Authorization"][7:] not in dump
    assert "emulator-secret-responder" not in dump
    client.control("DELETE", "/log")
    assert client.control("GET", "/log")["value"] == []


# --- the control API ----------------------------------------------------------------------------------
def test_control_api_refuses_api_tokens_and_missing_keys(client):
    url = client.info["control_url"] + "/state"
    assert requests.get(url, verify=client.verify).status_code == 401
    with_token = requests.get(url, headers=dict(client.headers(), **{"X-Emulator-Key": "wrong"}),
                              verify=client.verify)
    assert with_token.status_code == 403
    assert requests.get(url, headers={"X-Emulator-Key": "wrong"}, verify=client.verify).status_code == 401


def test_state_shows_machines_library_actions(client):
    quarantine(client)
    client.control("POST", "/machines/%s/online" % WS1, {"online": False})
    state = client.control("GET", "/state")
    ws1 = [m for m in state["machines"] if m["id"] == WS1][0]
    assert ws1["online"] is False and ws1["healthStatus"] == "Inactive"
    assert "collect_triage.ps1" in [f["fileName"] for f in state["library"]]
    assert state["actions"][0]["type"] == "StopAndQuarantineFile"
    assert "client_secret" not in json.dumps(state["apps"])


def test_reset_brings_back_the_seeded_tenant_on_the_same_ports(client, emu):
    api_url, key, tenant_id = emu.api_url, emu.control_key, emu.tenant.tenant_id
    old_headers = client.headers()
    assert quarantine(client).status_code == 201
    client.control("POST", "/machines/%s/online" % WS1, {"online": False})
    client.control("POST", "/settings", {"pending_seconds": 99})
    assert client.control("POST", "/reset") == {"reset": True}
    state = client.control("GET", "/state")
    assert (emu.api_url, emu.control_key, state["tenant_id"]) == (api_url, key, tenant_id)
    assert state["actions"] == [] and client.control("GET", "/log")["value"] == []
    assert [m["online"] for m in state["machines"] if m["id"] == WS1] == [True]
    assert state["settings"]["pending_seconds"] != 99
    # A token of the tenant before the reset is refused, so a client signs in again.
    stale = requests.get(api_url + "/api/machines", headers=old_headers, verify=emu.ca_path)
    assert stale.status_code == 401


def test_servers_bind_loopback_only(emu):
    for server, _thread in emu._servers:
        assert server.server_address[0] == "127.0.0.1"


# --- the command line ---------------------------------------------------------------------------------
def test_command_line_starts_prints_one_json_line_and_stops_on_sigterm(tmp_path):
    """Also the done-when of the emulator: started from the command line, driven by a hand-written client."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    seed = load_seed()
    seed["settings"] = {"clock_speed": 20}
    seed_path = tmp_path / "seed.json"
    seed_path.write_text(json.dumps(seed))
    proc = subprocess.Popen([sys.executable, "-m", "mde_emulator", "--seed", str(seed_path), "--state-dir",
                             str(tmp_path), "--info-file", str(tmp_path / "info.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        for key in ("api_url", "authority_url", "blob_url", "ca_path", "tenant_id", "apps", "control_key"):
            assert info[key]
        assert info["api_url"].startswith("https://127.0.0.1:")
        doc = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (info["authority_url"], info["tenant_id"]),
                           verify=info["ca_path"], timeout=10)
        assert doc.status_code == 200
        # A client written by hand, MSAL and requests only, runs a live response end to end.
        example = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "live_response_by_hand.py")
        by_hand = subprocess.run([sys.executable, example, str(tmp_path / "info.json")], capture_output=True,
                                 text=True, timeout=60, check=False)
        assert by_hand.returncode == 0, by_hand.stderr
        assert "Succeeded" in by_hand.stdout and "200000 bytes" in by_hand.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_alerts_are_created_updated_and_listed_with_evidence_on_expand(client):
    created = client.control("POST", "/alerts", {
        "title": "Dropper", "severity": "High", "machineId": "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
        "evidence": [{"entityType": "File", "sha1": "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f",
                      "fileName": "invoice.pdf.exe"}]})
    assert created["computerDnsName"] == "ws-fin-001.corp.example.com"
    plain = client.get("/api/alerts").json()["value"]
    assert [a["id"] for a in plain] == [created["id"]] and "evidence" not in plain[0]
    expanded = client.get("/api/alerts", params={"$expand": "evidence",
                                                 "$filter": "lastUpdateTime ge %s" % created["lastUpdateTime"]})
    assert expanded.json()["value"][0]["evidence"][0]["sha1"] == "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
    updated = client.control("PATCH", "/alerts/%s" % created["id"], {"status": "InProgress"})
    assert updated["status"] == "InProgress" and updated["lastUpdateTime"] >= created["lastUpdateTime"]
    refused = client.get("/api/alerts", params={"$filter": "title eq 'Dropper'"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ODataError"
