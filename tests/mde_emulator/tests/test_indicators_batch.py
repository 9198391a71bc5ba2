"""Indicators in bulk and the live response library over HTTPS, as Microsoft Learn documents them ("Batch Delete
Indicators", "Import Indicators API", "List library files", "Delete a file from the live response library")."""

import pytest

from mde_emulator.testclient import READER


def sha1(n):
    return "%040x" % (0xabc000 + n)


def indicator(n):
    return {"indicatorValue": sha1(n), "indicatorType": "FileSha1", "action": "Alert", "title": "t%d" % n,
            "description": "d"}


def import_(client, count, first=0):
    response = client.post("/api/indicators/import", {"Indicators": [indicator(first + n) for n in range(count)]})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["value"]]


def batch_delete(client, body):
    return client.post("/api/indicators/BatchDelete", body)


def listed_ids(client):
    return sorted(e["id"] for e in client.get("/api/indicators").json()["value"])


def test_batch_delete_answers_204_and_deletes(client):
    ids = import_(client, 3)
    response = batch_delete(client, {"IndicatorIds": ids[:2]})
    assert response.status_code == 204 and not response.content.strip(b"null")
    assert listed_ids(client) == [ids[2]]


def test_an_unknown_id_is_a_404_and_nothing_is_deleted(client):
    ids = import_(client, 2)
    response = batch_delete(client, {"IndicatorIds": ids + ["999999"]})
    assert response.status_code == 404 and "999999" in response.json()["error"]["message"]
    assert listed_ids(client) == sorted(ids)   # all or none: there is no per-item result
    client.control("POST", "/settings", {"batchdelete_partial": True})
    response = batch_delete(client, {"IndicatorIds": ids + ["999999"]})
    assert response.status_code == 404 and listed_ids(client) == []


def test_500_ids_at_most(client):
    ids = import_(client, 500)
    status = batch_delete(client, {"IndicatorIds": [str(i) for i in range(1, 502)]})
    assert status.status_code == 400 and status.json()["error"]["code"] == "MaximumBatchSizeExceeded"
    assert "501" in status.json()["error"]["message"] and len(listed_ids(client)) == 500
    assert batch_delete(client, {"IndicatorIds": ids}).status_code == 204
    assert listed_ids(client) == []


@pytest.mark.parametrize("body,code", [
    ({"IndicatorIds": []}, "InvalidInput"),                 # empty
    ({"IndicatorIds": ["abc"]}, "InvalidInput"),            # not an indicator id
    ({"IndicatorIds": [{"id": "1"}]}, "InvalidInput"),
    ({"IndicatorIds": "1001"}, "InvalidInput"),
    ({"indicatorIds": ["1001"]}, "MissingRequiredParameter"),   # body parameters are case-sensitive
    ({}, "MissingRequiredParameter"),
    ({"IndicatorIds": ["1001"], "Comment": "x"}, "InvalidRequestBody"),
])
def test_batch_delete_refusals(client, body, code):
    import_(client, 1)
    response = batch_delete(client, body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    assert len(listed_ids(client)) == 1


def test_batch_delete_permissions(client):
    ids = import_(client, 1)
    reader = client.__class__(client.emu, app=READER)
    refused = batch_delete(reader, {"IndicatorIds": ids})
    assert refused.status_code == 403 and "Ti.ReadWrite" in refused.json()["error"]["message"]
    client.control("POST", "/seed", {"apps": [{"client_id": "77777777-7777-4777-8777-777777777777",
                                               "client_secret": "ti-rw", "roles": ["Ti.ReadWrite"]}]})
    writer = client.__class__(client.emu, app=("77777777-7777-4777-8777-777777777777", "ti-rw"))
    assert batch_delete(writer, {"IndicatorIds": ids}).status_code == 204


def test_batch_delete_and_import_have_their_own_classes_of_30_a_minute(client):
    for dummy in range(30):
        assert batch_delete(client, {"IndicatorIds": ["424242"]}).status_code == 404
    refused = batch_delete(client, {"IndicatorIds": ["424242"]})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    for n in range(30):
        import_(client, 1, first=n)
    refused = client.post("/api/indicators/import", {"Indicators": [indicator(99)]})
    assert refused.status_code == 429
    assert client.get("/api/indicators").status_code == 200   # the default class is untouched
    limits = client.control("GET", "/state")["settings"]["rate_limits"]
    assert limits["indicatorimport"] == [[30, 60]] and limits["indicatorbatchdelete"] == [[30, 60], [1500, 3600]]


def test_import_500_at_most_with_a_result_per_item(client):
    result = client.post("/api/indicators/import", {"Indicators": [indicator(1), dict(indicator(2), action="Nope")]})
    value = result.json()["value"]
    assert [v["isFailed"] for v in value] == [False, True] and value[1]["id"] is None and value[1]["failureReason"]
    too_many = client.post("/api/indicators/import", {"Indicators": [indicator(n) for n in range(501)]})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "MaximumBatchSizeExceeded"


# --- library --------------------------------------------------------------------------------------------
def test_library_list_shape_and_delete(client):
    listed = client.get("/api/libraryfiles").json()
    assert listed["@odata.context"].endswith("/api/$metadata#LibraryFiles")
    names = [f["fileName"] for f in listed["value"]]
    assert "collect_triage.ps1" in names
    entry = [f for f in listed["value"] if f["fileName"] == "collect_triage.ps1"][0]
    assert {"fileName", "sha256", "description", "creationTime", "lastUpdatedTime", "createdBy",
            "hasParameters"} <= set(entry)
    assert client.delete("/api/libraryfiles/collect_triage.ps1").status_code == 204
    assert "collect_triage.ps1" not in [f["fileName"] for f in client.get("/api/libraryfiles").json()["value"]]
    gone = client.delete("/api/libraryfiles/collect_triage.ps1")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "NotFound"
    reader = client.__class__(client.emu, app=READER)
    for response in (reader.get("/api/libraryfiles"), reader.delete("/api/libraryfiles/fail.ps1")):
        assert response.status_code == 403 and "Library.Manage" in response.json()["error"]["message"]
