"""Alert updates over HTTPS: PATCH /api/alerts/{id} and POST /api/alerts/batchUpdate, as Microsoft Learn documents them
("Update alert", "Batch update alerts", the alert entity's classification and determination values)."""

import pytest

from conftest import advance
from mde_emulator.alerts import PAIRS
from mde_emulator.api import rate_class
from mde_emulator.testclient import READER, WS1

INVALID_PAIRS = [("FalsePositive", "Malware"), ("TruePositive", "Clean"), ("InformationalExpectedActivity", "Phishing"),
                 ("FalsePositive", "SecurityTesting"), ("TruePositive", "InsufficientData")]


def new_alert(client, **spec):
    body = {"title": "Dropper", "severity": "High", "machineId": WS1}
    body.update(spec)
    return client.control("POST", "/alerts", body)


def patch(client, alert_id, body, **kwargs):
    return client.call("PATCH", "/api/alerts/%s" % alert_id, json=body, **kwargs)


def batch(client, body):
    return client.post("/api/alerts/batchUpdate", body)


def error(response):
    return response.status_code, response.json()["error"]["code"], response.json()["error"]["message"]


@pytest.mark.parametrize("classification,determination",
                         [(c, d) for c, values in PAIRS.items() for d in values])
def test_every_documented_pair_is_accepted(client, classification, determination):
    alert = new_alert(client)
    response = patch(client, alert["id"], {"classification": classification, "determination": determination})
    assert response.status_code == 200, response.text
    assert (response.json()["classification"], response.json()["determination"]) == (classification, determination)


@pytest.mark.parametrize("classification,determination", INVALID_PAIRS)
def test_an_undocumented_pair_is_a_400_naming_the_pair(client, classification, determination):
    alert = new_alert(client)
    status, code, message = error(patch(client, alert["id"], {"classification": classification,
                                                              "determination": determination}))
    assert (status, code) == (400, "InvalidInput")
    assert classification in message and determination in message
    state = [a for a in client.control("GET", "/state")["alerts"] if a["id"] == alert["id"]][0]
    assert state["classification"] is None and state["determination"] is None   # nothing changed


def test_patch_returns_the_updated_alert_and_moves_last_update_time(client):
    alert = new_alert(client)
    advance(client, 30)
    response = patch(client, alert["id"], {"status": "Resolved", "assignedTo": "secop2@contoso.com",
                                           "classification": "TruePositive", "determination": "Malware",
                                           "comment": "Resolve my alert and assign to secop2"})
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["assignedTo"]) == ("Resolved", "secop2@contoso.com")
    assert body["lastUpdateTime"] > alert["lastUpdateTime"] and body["resolvedTime"] == body["lastUpdateTime"]
    assert body["comments"] == [{"comment": "Resolve my alert and assign to secop2", "createdBy": "secops-responder",
                                 "createdTime": body["lastUpdateTime"]}]
    listed = client.get("/api/alerts", params={"$filter": "status eq 'Resolved'"}).json()["value"]
    assert [a["id"] for a in listed] == [alert["id"]] and listed[0]["comments"] == body["comments"]
    advance(client, 30)
    unchanged = patch(client, alert["id"], {"status": "Resolved"}).json()   # the same value: no change
    assert unchanged["lastUpdateTime"] == body["lastUpdateTime"]
    reopened = patch(client, alert["id"], {"status": "InProgress"}).json()
    assert reopened["resolvedTime"] is None and reopened["lastUpdateTime"] > body["lastUpdateTime"]


def test_each_comment_is_appended_the_api_does_not_dedupe(client):
    alert = new_alert(client, comments=[{"comment": "seeded", "createdBy": "analyst@contoso.com",
                                         "createdTime": "2026-01-01T00:00:00Z"}])
    assert alert["comments"][0]["createdBy"] == "analyst@contoso.com"
    first = patch(client, alert["id"], {"comment": "closing: benign"}).json()
    advance(client, 1)
    second = patch(client, alert["id"], {"comment": "closing: benign"}).json()
    assert [c["comment"] for c in second["comments"]] == ["seeded", "closing: benign", "closing: benign"]
    assert second["lastUpdateTime"] > first["lastUpdateTime"]   # a comment alone is a change


def test_a_determination_needs_a_classification_and_a_new_classification_recalculates_it(client):
    alert = new_alert(client)
    status, code, message = error(patch(client, alert["id"], {"determination": "Malware"}))
    assert (status, code) == (400, "InvalidInput") and "classification" in message
    patch(client, alert["id"], {"classification": "TruePositive"})
    assert patch(client, alert["id"], {"determination": "Phishing"}).json()["determination"] == "Phishing"
    assert error(patch(client, alert["id"], {"determination": "Clean"}))[0] == 400   # against the alert's own
    moved = patch(client, alert["id"], {"classification": "FalsePositive"}).json()
    assert (moved["classification"], moved["determination"]) == ("FalsePositive", None)
    kept = patch(client, alert["id"], {"classification": "FalsePositive", "determination": "Other"}).json()
    assert patch(client, alert["id"], {"classification": "TruePositive"}).json()["determination"] == "Other"
    assert kept["determination"] == "Other"


@pytest.mark.parametrize("body,code", [
    ({"severity": "Low"}, "InvalidRequestBody"),                       # not updatable through the API
    ({"Status": "Resolved"}, "InvalidRequestBody"),                    # body parameters are case-sensitive
    ({"status": "Unknown"}, "InvalidInput"),                           # updates take New, InProgress, Resolved
    ({"status": "Closed"}, "InvalidInput"),
    ({"classification": "Informational, expected activity"}, "InvalidInput"),   # the display name, not the value
    ({"classification": "TruePositive", "determination": "Apt"}, "InvalidInput"),  # deprecated August 2022
    ({"classification": "FalsePositive", "determination": "NotMalicious"}, "InvalidInput"),  # update page's name
    ({"status": 3}, "InvalidRequestBody"),
])
def test_refusals(client, body, code):
    alert = new_alert(client)
    status, got, message = error(patch(client, alert["id"], body))
    assert (status, got) == (400, code), message
    if "Status" in body:
        assert "case-sensitive" in message


def test_unknown_alert_and_missing_permission(client):
    assert error(patch(client, "da000", {"status": "Resolved"}))[:2] == (404, "NotFound")
    alert = new_alert(client)
    reader = client.__class__(client.emu, app=READER)
    assert patch(reader, alert["id"], {"status": "Resolved"}).status_code == 403
    assert "Alert.ReadWrite.All" in patch(reader, alert["id"], {"status": "Resolved"}).json()["error"]["message"]


def test_settings_for_what_the_pages_disagree_on(client):
    alert = new_alert(client)
    client.control("POST", "/settings", {"alert_determination_names": "either"})
    body = patch(client, alert["id"], {"classification": "FalsePositive", "determination": "NotMalicious"}).json()
    assert body["determination"] == "Clean"
    client.control("POST", "/settings", {"alert_pairs_enforced": False})   # Learn's own example pair
    body = patch(client, alert["id"], {"classification": "FalsePositive", "determination": "Malware"}).json()
    assert (body["classification"], body["determination"]) == ("FalsePositive", "Malware")


# --- batch --------------------------------------------------------------------------------------------
def test_batch_update_answers_200_with_an_empty_body_and_updates_each(client):
    ids = [new_alert(client)["id"] for dummy in range(3)]
    response = batch(client, {"alertIds": ids, "status": "Resolved", "classification": "InformationalExpectedActivity",
                              "determination": "SecurityTesting", "comment": "red team exercise"})
    assert response.status_code == 200 and response.content == b""
    for alert in client.get("/api/alerts").json()["value"]:
        assert (alert["status"], alert["determination"]) == ("Resolved", "SecurityTesting")
        assert [c["comment"] for c in alert["comments"]] == ["red team exercise"]


def test_batch_size_limit(client):
    alert = new_alert(client)
    assert batch(client, {"alertIds": [alert["id"]] * 500, "status": "InProgress"}).status_code == 200
    status, code, message = error(batch(client, {"alertIds": ["da%d" % i for i in range(501)], "status": "New"}))
    assert (status, code) == (400, "MaximumBatchSizeExceeded") and "501" in message and "500" in message
    client.control("POST", "/settings", {"alert_batch_max": 2})
    assert error(batch(client, {"alertIds": ["a", "b", "c"], "status": "New"}))[1] == "MaximumBatchSizeExceeded"


def test_batch_with_an_unknown_id_is_refused_whole_unless_set_to_ignore(client):
    known = new_alert(client)["id"]
    status, code, message = error(batch(client, {"alertIds": [known, "da-gone"], "status": "Resolved"}))
    assert (status, code) == (404, "NotFound") and "da-gone" in message
    assert client.get("/api/alerts").json()["value"][0]["status"] == "New"
    client.control("POST", "/settings", {"alert_batch_unknown": "ignore"})
    assert batch(client, {"alertIds": [known, "da-gone"], "status": "Resolved"}).status_code == 200
    assert client.get("/api/alerts").json()["value"][0]["status"] == "Resolved"


def test_batch_checks_every_alert_before_changing_any(client):
    first = new_alert(client, classification="TruePositive")["id"]
    second = new_alert(client, classification="FalsePositive")["id"]
    status, code, message = error(batch(client, {"alertIds": [first, second], "determination": "Malware"}))
    assert (status, code) == (400, "InvalidInput") and "FalsePositive" in message
    assert all(a["determination"] is None for a in client.get("/api/alerts").json()["value"])


@pytest.mark.parametrize("body,code", [
    ({"status": "Resolved"}, "MissingRequiredParameter"),
    ({"alertIds": [], "status": "Resolved"}, "InvalidInput"),
    ({"alertIds": "da1", "status": "Resolved"}, "InvalidInput"),
    ({"AlertIds": ["da1"], "status": "Resolved"}, "MissingRequiredParameter"),
    ({"alertIds": ["da1"], "severity": "Low"}, "InvalidRequestBody"),
])
def test_batch_refusals(client, body, code):
    new_alert(client, id="da1")
    assert error(batch(client, body))[:2] == (400, code)


def test_batch_update_has_its_own_class_of_10_calls_a_minute(client):
    alert = new_alert(client)
    for dummy in range(10):
        assert batch(client, {"alertIds": [alert["id"]], "status": "InProgress"}).status_code == 200
    refused = batch(client, {"alertIds": [alert["id"]], "status": "InProgress"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert patch(client, alert["id"], {"status": "Resolved"}).status_code == 200   # other classes are untouched
    assert client.get("/api/alerts").status_code == 200
    limits = client.control("GET", "/state")["settings"]["rate_limits"]
    assert limits["alertbatchupdate"] == [[10, 60], [500, 3600]] and limits["alertupdate"] == [[100, 60], [1500, 3600]]


def test_rate_classes_by_path_and_method():
    assert rate_class("/api/alerts/batchUpdate", "POST") == "alertbatchupdate"
    assert rate_class("/api/alerts/da123", "PATCH") == "alertupdate"
    assert rate_class("/api/alerts/da123", "GET") == "getalert"
    assert rate_class("/api/alerts", "GET") == "listalerts"
    assert rate_class("/api/machines/%s/startInvestigation" % WS1, "POST") == "startinvestigation"
    assert rate_class("/api/indicators/import", "POST") == "indicatorimport"
    assert rate_class("/api/indicators/BatchDelete", "POST") == "indicatorbatchdelete"
    assert rate_class("/api/machines/%s/runliveresponse" % WS1) == "runliveresponse"
