"""Documented rules from Microsoft Learn (api/get-live-response-result, api/get-package-sas-uri,
api/run-live-response, api/exposed-apis-create-app-webapp), one test each: permissions of the result links, repeat codes, library names,
the alternative scope, externalID, and the live response time limit as a setting."""

import pytest

from conftest import advance
from mde_emulator.testclient import READER, SHA1, WS1, Client

PAIRED_REPEATS = [
    ("isolate", {"Comment": "c", "IsolationType": "Full"}),
    ("restrictCodeExecution", {"Comment": "c"}),
    ("runAntiVirusScan", {"Comment": "c", "ScanType": "Quick"}),
    ("collectInvestigationPackage", {"Comment": "c"}),
]


def finished_session(client):
    action = client.live_response().json()
    advance(client, 60)
    return action["id"]


def test_the_result_link_needs_read_permission_not_live_response(emu, client):
    action_id = finished_session(client)
    reader = Client(emu, app=READER)  # Machine.Read.All only
    response = reader.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action_id)
    assert response.status_code == 200 and response.json()["value"].startswith("https://")
    client.control("POST", "/seed", {"apps": [{"client_id": "55555555-5555-4555-8555-555555555555",
                                               "client_secret": "lr-only", "roles": ["Machine.LiveResponse"]}]})
    live_only = Client(emu, app=("55555555-5555-4555-8555-555555555555", "lr-only"))
    refused = live_only.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action_id)
    assert refused.status_code == 403 and "Machine.Read.All" in refused.json()["error"]["message"]


def test_the_package_uri_needs_read_permission(emu, client):
    action = client.post("/api/machines/%s/collectInvestigationPackage" % WS1, {"Comment": "c"}).json()
    advance(client, 60)
    reader = Client(emu, app=READER)
    assert reader.get("/api/machineactions/%s/getPackageUri" % action["id"]).status_code == 200


@pytest.mark.parametrize("verb, body", PAIRED_REPEATS)
def test_a_repeat_while_pending_is_active_request_already_exists(client, verb, body):
    client.control("POST", "/machines/%s/online" % WS1, {"online": False})
    assert client.post("/api/machines/%s/%s" % (WS1, verb), body).status_code == 201
    repeat = client.post("/api/machines/%s/%s" % (WS1, verb), body)
    assert repeat.status_code == 400 and repeat.json()["error"]["code"] == "ActiveRequestAlreadyExists"


def test_the_legacy_repeat_answer_is_a_setting(client):
    client.control("POST", "/settings", {"repeat_code": "legacy"})
    client.control("POST", "/machines/%s/online" % WS1, {"online": False})
    client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Full"})
    repeat = client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Full"})
    assert repeat.status_code == 400 and repeat.json()["error"]["message"] == "Action is already in progress"


@pytest.mark.parametrize("name", ["sub/script.ps1", "evil$.ps1", "bad name.ps1", "ünï.ps1", ".."])
def test_library_names_are_restricted_and_a_refusal_is_400(client, name):
    response = client.call("POST", "/api/libraryfiles", files={"file": (name, b"x")})
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidInput"
    assert name.lower() not in [f["fileName"].lower() for f in client.get("/api/libraryfiles").json()["value"]]


def test_the_alternative_scope_is_accepted(client):
    token = client.token(scope="https://securitycenter.onmicrosoft.com/windowsatpservice/.default")
    assert token.status_code == 200
    response = client.get("/api/machines", headers={"Authorization": "Bearer " + token.json()["access_token"]})
    assert response.status_code == 200


def test_external_id_is_spelled_so_and_echoed(client):
    action = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                         {"Comment": "c", "Sha1": SHA1, "ExternalID": "INC-4711"}).json()
    assert action["externalID"] == "INC-4711" and "externalId" not in action
    assert client.get("/api/machineactions/%s" % action["id"]).json()["externalID"] == "INC-4711"
    plain = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "d", "Sha1": "b" * 40}).json()
    assert plain["externalID"] is None


@pytest.mark.parametrize("limit, status", [(600, "Failed"), (1800, "Succeeded")])
def test_the_live_response_time_limit_is_a_setting(client, limit, status):
    client.control("POST", "/settings", {"runscript_timeout_seconds": limit})
    client.control("POST", "/seed", {"scripts": {"long.ps1": {"duration_seconds": 1200}},
                                     "library": [{"fileName": "long.ps1", "content": "Start-Sleep 1200"}]})
    commands = [{"type": "RunScript", "params": [{"key": "ScriptName", "value": "long.ps1"}]}]
    action = client.live_response(commands=commands).json()
    advance(client, 1300)
    assert client.get("/api/machineactions/%s" % action["id"]).json()["status"] == status
