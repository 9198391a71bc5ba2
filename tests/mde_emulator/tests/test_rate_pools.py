"""Rate classes per API (each Learn page's "Limitations") and the single pool of the `rate_pool: single` variant."""

import pytest

from mde_emulator.api import rate_class
from mde_emulator.testclient import SHA1, WS1

ACTION = "2e9da30d-27f6-4208-81f2-9cd3d67893ba"
# (method, path, per-API class): every route of the table, in the case the API documents.
ROUTES = [
    ("POST", "/api/machines/%s/isolate" % WS1, "isolate"),
    ("POST", "/api/machines/%s/unisolate" % WS1, "unisolate"),
    ("POST", "/api/machines/%s/restrictCodeExecution" % WS1, "restrictcodeexecution"),
    ("POST", "/api/machines/%s/unrestrictCodeExecution" % WS1, "unrestrictcodeexecution"),
    ("POST", "/api/machines/%s/StopAndQuarantineFile" % WS1, "stopandquarantinefile"),
    ("POST", "/api/machines/%s/runAntiVirusScan" % WS1, "runantivirusscan"),
    ("POST", "/api/machines/%s/collectInvestigationPackage" % WS1, "collectinvestigationpackage"),
    ("POST", "/api/machines/%s/offboard" % WS1, "offboard"),
    ("POST", "/api/machines/%s/runliveresponse" % WS1, "runliveresponse"),
    ("POST", "/api/machines/%s/startInvestigation" % WS1, "startinvestigation"),
    ("POST", "/api/machines/%s/tags" % WS1, "machinetags"),
    ("POST", "/api/machines/AddOrRemoveTagForMultipleMachines", "machinetagsbatch"),
    ("GET", "/api/machines", "listmachines"),
    ("GET", "/api/machines/findbytag", "findbytag"),
    ("GET", "/api/machines/findbyip(ip='10.1.1.1',timestamp=2024-01-01T00:00:00Z)", "findbyip"),
    ("GET", "/api/machines/%s" % WS1, "getmachine"),
    ("GET", "/api/machines/%s/logonusers" % WS1, "logonusers"),
    ("GET", "/api/machineactions", "listmachineactions"),
    ("GET", "/api/machineactions/%s" % ACTION, "getmachineaction"),
    ("POST", "/api/machineactions/%s/cancel" % ACTION, "cancelmachineaction"),
    ("GET", "/api/machineactions/%s/getPackageUri" % ACTION, "getpackageuri"),
    ("GET", "/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % ACTION, "liveresponseresult"),
    ("GET", "/api/alerts", "listalerts"),
    ("GET", "/api/alerts/da1", "getalert"),
    ("PATCH", "/api/alerts/da1", "alertupdate"),
    ("POST", "/api/alerts/batchUpdate", "alertbatchupdate"),
    ("GET", "/api/alerts/da1/files", "alert_files"),
    ("GET", "/api/investigations", "listinvestigations"),
    ("GET", "/api/investigations/1", "getinvestigation"),
    ("GET", "/api/indicators", "listindicators"),
    ("POST", "/api/indicators", "submitindicator"),
    ("POST", "/api/indicators/import", "indicatorimport"),
    ("POST", "/api/indicators/BatchDelete", "indicatorbatchdelete"),
    ("DELETE", "/api/indicators/17", "deleteindicator"),
    ("GET", "/api/libraryfiles", "listlibrary"),
    ("POST", "/api/libraryfiles", "uploadlibrary"),
    ("DELETE", "/api/libraryfiles/a.ps1", "deletelibrary"),
    ("POST", "/api/advancedqueries/run", "advancedqueries"),
    ("GET", "/api/files/%s/stats" % SHA1, "file_stats"),
    ("GET", "/api/nothing/here", "default"),
]
SINGLE_KEEPS = ("runliveresponse", "getpackageuri", "alertupdate", "alertbatchupdate", "startinvestigation",
                "indicatorimport", "indicatorbatchdelete", "advancedqueries", "default")


@pytest.mark.parametrize("method,path,klass", ROUTES)
def test_each_api_has_its_class_and_the_single_pool_folds_the_standard_ones(method, path, klass):
    assert rate_class(path, method) == klass
    assert rate_class(path, method, "single") == (klass if klass in SINGLE_KEEPS else "default")


def test_a_read_does_not_take_an_isolations_slot(client):
    client.headers()
    client.control("POST", "/settings", {"rate_limits": {"default": [[2, 60]]}})
    assert [client.get("/api/machineactions").status_code for _i in range(3)] == [200, 200, 429]
    assert client.get("/api/machines").status_code == 200  # another API: its own 2 calls


def test_the_single_pool_counts_reads_and_writes_together(client):
    client.headers()
    client.control("POST", "/settings", {"rate_pool": "single", "rate_limits": {"default": [[2, 60]]}})
    assert [client.get("/api/machineactions").status_code, client.get("/api/machines").status_code] == [200, 200]
    refused = client.get("/api/machines/%s" % WS1)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
