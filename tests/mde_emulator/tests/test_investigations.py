"""Automated investigations over HTTPS: start one on a device, watch it move on the emulator's clock, list and read
them, as Microsoft Learn documents ("Start Investigation API", "List Investigations API", "Get Investigation API",
the investigation resource type)."""

import pytest

from conftest import advance
from mde_emulator.testclient import LINUX, OFFLINE, READER, WS1

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"   # seeded with investigationOutcome: Failed
FIELDS = {"id", "startTime", "endTime", "state", "cancelledBy", "statusDetails", "machineId", "computerDnsName",
          "triggeringAlertId"}


def start(client, machine=WS1, body=None, verb="startInvestigation"):
    return client.post("/api/machines/%s/%s" % (machine, verb), {"Comment": "Test investigation"} if body is None
                       else body)


def get(client, key):
    return client.get("/api/investigations/%s" % key).json()


def test_lifecycle_on_the_clock(client):
    response = start(client)
    assert response.status_code == 201, response.text
    inv = response.json()
    assert set(inv) == FIELDS
    assert (inv["state"], inv["endTime"], inv["machineId"]) == ("Queued", None, WS1)
    assert inv["computerDnsName"] == "ws-fin-001.corp.example.com" and inv["id"].isdigit()
    alert = [a for a in client.get("/api/alerts").json()["value"] if a["id"] == inv["triggeringAlertId"]][0]
    assert alert["title"] == "Automated investigation started manually"
    assert (alert["investigationId"], alert["investigationState"]) == (int(inv["id"]), "Queued")
    advance(client, 5)
    assert get(client, inv["id"])["state"] == "Running"
    advance(client, 59)
    assert get(client, inv["id"])["state"] == "Running"
    advance(client, 1)
    done = get(client, inv["id"])
    assert done["state"] == "Benign" and done["endTime"] > done["startTime"]
    alert = [a for a in client.get("/api/alerts").json()["value"] if a["id"] == inv["triggeringAlertId"]][0]
    assert alert["investigationState"] == "Benign"
    assert get(client, inv["triggeringAlertId"])["id"] == inv["id"]   # the id may be the triggering alert's


def test_seed_and_settings_choose_outcomes(client):
    failed = start(client, WS2).json()
    client.control("POST", "/settings", {"investigation_outcomes": {"ws-fin-001.corp.example.com": "Running"},
                                         "investigation_running_seconds": 10})
    stays = start(client).json()
    advance(client, 3600)
    assert get(client, failed["id"])["state"] == "Failed" and get(client, failed["id"])["statusDetails"]
    assert (get(client, stays["id"])["state"], get(client, stays["id"])["endTime"]) == ("Running", None)
    client.control("POST", "/settings", {"investigation_outcomes": {}, "investigation_outcome": "PendingApproval"})
    pending = start(client).json()
    advance(client, 20)
    assert get(client, pending["id"])["state"] == "PendingApproval" and get(client, pending["id"])["endTime"] is None


def test_an_offline_device_waits_then_runs(client):
    inv = start(client, OFFLINE).json()
    advance(client, 600)
    assert get(client, inv["id"])["state"] == "PendingResource"
    client.control("POST", "/machines/%s/online" % OFFLINE, {"online": True})
    advance(client, 5)
    assert get(client, inv["id"])["state"] == "Running"
    advance(client, 60)
    assert get(client, inv["id"])["state"] == "Benign"


def test_a_second_start_on_the_same_device_creates_a_second(client):
    first, second = start(client).json(), start(client).json()
    assert first["id"] != second["id"] and first["triggeringAlertId"] != second["triggeringAlertId"]
    running = client.get("/api/investigations", params={"$filter": "machineId eq '%s' and state eq 'Queued'" % WS1})
    assert sorted(i["id"] for i in running.json()["value"]) == sorted([first["id"], second["id"]])


def test_the_path_is_not_case_sensitive(client):
    assert start(client, verb="startinvestigation").status_code == 201


@pytest.mark.parametrize("machine,body,status,code", [
    ("0" * 40, None, 404, "ResourceNotFound"),
    (WS1, {}, 400, "MissingRequiredParameter"),
    (WS1, {"comment": "lower case"}, 400, "MissingRequiredParameter"),   # body parameters are case-sensitive
    (WS1, {"Comment": ""}, 400, "InvalidInput"),
    (LINUX, None, 400, "OsPlatformNotSupported"),
])
def test_refusals(client, machine, body, status, code):
    response = start(client, machine, body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert client.get("/api/investigations").json()["value"] == []


def test_a_device_that_is_not_onboarded_is_refused(client):
    client.control("POST", "/seed", {"machines": [{"id": "5" * 40, "computerDnsName": "byod-01",
                                                   "onboardingStatus": "CanBeOnboarded"}]})
    response = start(client, "5" * 40)
    assert response.status_code == 400 and "onboarded" in response.json()["error"]["message"]


def test_unsupported_os_as_a_state(client):
    client.control("POST", "/settings", {"investigation_unsupported": "state"})
    inv = start(client, LINUX)
    assert inv.status_code == 201
    assert inv.json()["state"] == "UnsupportedOs" and inv.json()["endTime"] == inv.json()["startTime"]


def test_permissions(client):
    reader = client.__class__(client.emu, app=READER)
    refused = start(reader)
    assert refused.status_code == 403 and "Alert.ReadWrite.All" in refused.json()["error"]["message"]
    assert reader.get("/api/investigations").status_code == 403
    client.control("POST", "/seed", {"apps": [{"client_id": "66666666-6666-4666-8666-666666666666",
                                               "client_secret": "alert-reader", "roles": ["Alert.Read.All"]}]})
    alert_reader = client.__class__(client.emu, app=("66666666-6666-4666-8666-666666666666", "alert-reader"))
    inv = start(client).json()
    assert alert_reader.get("/api/investigations/%s" % inv["id"]).status_code == 200
    assert start(alert_reader).status_code == 403


def test_list_filters_and_pages(client):
    ids = [start(client).json()["id"] for dummy in range(3)]
    failed = start(client, WS2).json()
    advance(client, 120)
    value = client.get("/api/investigations", params={"$filter": "state eq 'Failed'"}).json()["value"]
    assert [i["id"] for i in value] == [failed["id"]]
    value = client.get("/api/investigations", params={"$filter": "triggeringAlertId eq '%s'"
                                                      % failed["triggeringAlertId"]}).json()["value"]
    assert [i["id"] for i in value] == [failed["id"]]
    value = client.get("/api/investigations", params={"$filter": "startTime ge %s and id eq '%s'"
                                                      % (failed["startTime"], ids[0])}).json()["value"]
    assert [i["id"] for i in value] == [ids[0]]
    refused = client.get("/api/investigations", params={"$filter": "computerDnsName eq 'ws-fin-001'"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ODataError"
    client.control("POST", "/settings", {"page_size": 3})
    page = client.get("/api/investigations").json()
    assert len(page["value"]) == 3 and "@odata.nextLink" in page
    assert page["@odata.context"].endswith("/api/$metadata#investigations")
    rest = client.call("GET", page["@odata.nextLink"][len(client.info["api_url"]):]).json()
    assert [i["id"] for i in page["value"] + rest["value"]] == ids + [failed["id"]]
    assert client.get("/api/investigations/999999").status_code == 404


def test_control_forces_a_state(client):
    inv = start(client).json()
    forced = client.control("POST", "/investigations/%s/state" % inv["id"],
                            {"state": "TerminatedByUser", "cancelledBy": "secop2@contoso.com"})
    assert (forced["state"], forced["cancelledBy"]) == ("TerminatedByUser", "secop2@contoso.com")
    assert forced["endTime"] is not None
    advance(client, 3600)
    assert get(client, inv["id"])["state"] == "TerminatedByUser"
    state = client.control("GET", "/state")["investigations"][0]
    assert state["comment"] == "Test investigation" and state["requestor"] == "secops-responder"


def test_start_investigation_is_50_calls_an_hour(client):
    client.control("POST", "/settings", {"investigation_creates_alert": False})
    for dummy in range(50):
        assert start(client).status_code == 201
    refused = start(client)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60
    assert client.get("/api/investigations").status_code == 200   # listing is in the default class
    assert all(i["triggeringAlertId"] is None for i in client.get("/api/investigations").json()["value"])
