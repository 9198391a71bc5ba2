"""The endpoints and their rules: machines, paging, lifecycle, live response, quarantine, cancel, library."""

import gzip
import io
import zipfile
import hashlib
import time
import uuid

import pytest
import requests

from conftest import advance
from mde_emulator.testclient import LINUX, OFFLINE, SHA1, WS1
from mde_emulator.state import deterministic_bytes

TRIAGE = "C:\\Windows\\Temp\\triage.txt"


def run_script(name="collect_triage.ps1", args=None):
    params = [{"key": "ScriptName", "value": name}]
    if args:
        params.append({"key": "Args", "value": args})
    return {"type": "RunScript", "params": params}


def get_file(path):
    return {"type": "GetFile", "params": [{"key": "Path", "value": path}]}


def put_file(name):
    return {"type": "PutFile", "params": [{"key": "FileName", "value": name}]}


def action(client, action_id):
    return client.get("/api/machineactions/%s" % action_id).json()


# --- routing and errors -------------------------------------------------------------------------------
def test_api_prefix_is_case_insensitive(client):
    assert client.get("/API/machines").status_code == 200
    assert client.get("/api/machines").status_code == 200


def test_error_body_has_a_fresh_correlation_id(client):
    first = client.get("/api/machines/nope").json()["error"]
    second = client.get("/api/machines/nope").json()["error"]
    assert first["code"] == "ResourceNotFound"
    assert uuid.UUID(first["target"]) and first["target"] != second["target"]


# --- machines -----------------------------------------------------------------------------------------
def test_machine_by_id_and_by_name(client):
    assert client.get("/api/machines/%s" % WS1).json()["computerDnsName"] == "ws-fin-001.corp.example.com"
    assert client.get("/api/machines/ws-fin-001.corp.example.com").json()["id"] == WS1


@pytest.mark.parametrize("query,expected", [
    ("computerDnsName eq 'WS-FIN-001.corp.example.com'", 1),
    ("startswith(computerDnsName,'ws-fin-')", 2),
    ("osPlatform eq 'Linux' or healthStatus eq 'Inactive'", 2),
    ("osPlatform in ('Windows10','Windows11') and not (healthStatus eq 'Inactive')", 2),
    # every property Learn's "List machines API" lists is filterable
    ("machineTags/any(tag: tag eq 'finance')", 2),
    ("lastIpAddress eq '10.10.1.21'", 1),
    ("deviceValue eq 'Normal' and version eq '22H2' and id eq '1e5bc9d7e413ddd7902c2932e418702b84d0cc07'", 1),
])
def test_machine_filters(client, query, expected):
    response = client.get("/api/machines", params={"$filter": query})
    assert response.status_code == 200, response.text
    assert len(response.json()["value"]) == expected


@pytest.mark.parametrize("path,query", [
    ("/api/machines", "lastExternalIpAddress eq '203.0.113.10'"),
    ("/api/machines", "agentVersion eq '10.8760.22621.1000'"),
    ("/api/machines", "startswith(osVersion,'10')"),
    ("/api/machineactions", "computerDnsName eq 'ws-fin-001.corp.example.com'"),
    ("/api/machineactions", "lastUpdateDateTimeUtc ge 2026-01-01T00:00:00Z"),
])
def test_filter_on_an_undocumented_property_is_odata_error(client, path, query):
    response = client.get(path, params={"$filter": query})
    assert response.status_code == 400 and response.json()["error"]["code"] == "ODataError"
    assert "cannot be filtered on" in response.json()["error"]["message"]


def test_orderby_is_refused(client):
    response = client.get("/api/machineactions", params={"$orderby": "creationDateTimeUtc desc"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "ODataError"


def test_an_empty_machine_list_is_404(client):
    response = client.get("/api/machines", params={"$filter": "computerDnsName eq 'nosuch.example.com'"})
    assert response.status_code == 404
    client.control("POST", "/settings", {"empty_machines_404": False})
    assert client.get("/api/machines", params={"$filter": "computerDnsName eq 'nosuch'"}).json()["value"] == []


def test_bad_filter_is_odata_error(client):
    response = client.get("/api/machines", params={"$filter": "computerDnsName eq"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ODataError"


def test_find_by_tag_and_ip(client):
    exact = client.get("/api/machines/findbytag", params={"tag": "fin", "useStartsWithFilter": "false"}).json()
    starts = client.get("/api/machines/findbytag", params={"tag": "fin", "useStartsWithFilter": "true"}).json()
    assert exact["value"] == [] and len(starts["value"]) == 2
    now = client.control("GET", "/state")["clock"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
    found = client.get("/api/machines/findbyip(ip='10.10.1.21',timestamp=%s)" % stamp).json()
    assert [m["id"] for m in found["value"]] == [WS1]


@pytest.mark.parametrize("age, status", [(31 * 86400, 400), (-3600, 400), (29 * 86400, 200)])
def test_findbyip_looks_back_30_days_only(client, age, status):
    now = client.control("GET", "/state")["clock"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - age))
    assert client.get("/api/machines/findbyip(ip='10.10.1.21',timestamp=%s)" % stamp).status_code == status


def test_findbyip_matches_devices_seen_within_15_minutes(client):
    now = client.control("GET", "/state")["clock"]
    client.control("POST", "/clock", {"advance": 3600})  # the device was last seen an hour before this
    near = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600))
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 1800))
    for stamp, expected in ((near, 1), (far, 0)):
        found = client.get("/api/machines/findbyip(ip='10.10.1.21',timestamp=%s)" % stamp).json()["value"]
        assert len([m for m in found if m["id"] == WS1]) == expected


# --- paging -------------------------------------------------------------------------------------------
def _make_actions(client, count):
    client.control("POST", "/settings", {"rate_limits": {"default": [[1000, 60]]}})
    for index in range(count):
        assert client.post("/api/machines/%s/StopAndQuarantineFile" % WS1,
                           {"Comment": "c%d" % index, "Sha1": SHA1}).status_code == 201


def test_top_skip_and_next_link(client):
    _make_actions(client, 7)
    client.control("POST", "/settings", {"page_size": 3})
    page = client.get("/api/machineactions").json()
    seen = [a["id"] for a in page["value"]]
    while "@odata.nextLink" in page:
        page = requests.get(page["@odata.nextLink"], headers=client.headers(), verify=client.verify).json()
        seen.extend(a["id"] for a in page["value"])
    assert len(seen) == 7 and len(set(seen)) == 7
    top = client.get("/api/machineactions", params={"$top": 2, "$skip": 5}).json()
    assert [a["id"] for a in top["value"]] == seen[5:7]


def test_next_link_that_repeats_itself_can_be_switched_on(client):
    _make_actions(client, 4)
    client.control("POST", "/settings", {"page_size": 2, "nextlink_repeats": True})
    first = client.get("/api/machineactions").json()
    again = requests.get(first["@odata.nextLink"], headers=client.headers(), verify=client.verify).json()
    assert again["@odata.nextLink"] == first["@odata.nextLink"]


def test_action_filters(client):
    _make_actions(client, 2)
    query = "machineId eq '%s' and type eq 'StopAndQuarantineFile' and status eq 'Pending'" % WS1
    assert len(client.get("/api/machineactions", params={"$filter": query}).json()["value"]) == 2


# --- lifecycle ----------------------------------------------------------------------------------------
def test_action_moves_on_the_clock(client):
    created = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "c", "Sha1": SHA1.upper()})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "Pending"
    assert body["relatedFileInfo"] == {"fileIdentifier": SHA1, "fileIdentifierType": "Sha1"}
    advance(client, 2)
    assert action(client, body["id"])["status"] == "InProgress"
    advance(client, 3)
    done = action(client, body["id"])
    assert done["status"] == "Succeeded"
    assert done["lastUpdateDateTimeUtc"] > done["creationDateTimeUtc"]


def test_offline_machine_stays_pending_then_times_out(client):
    body = client.live_response(machine=OFFLINE).json()
    advance(client, 3600)
    assert action(client, body["id"])["status"] == "Pending"
    advance(client, 3 * 24 * 3600)
    assert action(client, body["id"])["status"] == "TimeOut"


def test_queue_limit_of_two_hours(client):
    client.control("POST", "/settings", {"queue_limit_seconds": 7200})
    body = client.live_response(machine=OFFLINE).json()
    advance(client, 7201)
    assert action(client, body["id"])["status"] == "TimeOut"


def test_machine_coming_online_runs_its_queue(client):
    body = client.live_response(machine=OFFLINE).json()
    advance(client, 60)
    client.control("POST", "/machines/%s/online" % OFFLINE, {"online": True})
    advance(client, 30)
    assert action(client, body["id"])["status"] == "Succeeded"


# --- live response ------------------------------------------------------------------------------------
def test_command_order_is_enforced(client):
    response = client.live_response(commands=[get_file(TRIAGE), run_script()])
    assert response.status_code == 400
    assert "order" in response.json()["error"]["message"]


def test_commands_complete_in_turn_and_results_download(client):
    body = client.live_response(commands=[put_file("collect_triage.ps1"), run_script(args="-Full"),
                                          get_file(TRIAGE)]).json()
    assert [c["commandStatus"] for c in body["commands"]] == ["Created"] * 3
    advance(client, 2 + 1)
    statuses = [c["commandStatus"] for c in action(client, body["id"])["commands"]]
    assert statuses == ["Completed", "InProgress", "Created"]
    advance(client, 10)
    done = action(client, body["id"])
    assert done["status"] == "Succeeded"
    assert [c["commandStatus"] for c in done["commands"]] == ["Completed"] * 3
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=1)" % body["id"]).json()
    assert link["value"].startswith(client.info["blob_url"])
    script = requests.get(link["value"], verify=client.verify).json()
    assert script == {"script_name": "collect_triage.ps1", "exit_code": 0, "script_output": "triage collected",
                      "script_errors": ""}
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=2)" % body["id"]).json()
    data = requests.get(link["value"], verify=client.verify).content
    assert data[:2] == b"\x1f\x8b"
    content = gzip.decompress(data)
    assert len(content) == 200000
    assert content == deterministic_bytes("%s:%s" % (WS1, TRIAGE.lower()), 200000)
    assert hashlib.sha256(content).hexdigest() == "bef5b6fe9d0c7b46fe027fb593be4a883b233e1e590ebde0dd71efdc0aa67363"
    put = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % body["id"])
    assert put.status_code == 400


def test_getfile_can_be_served_raw(client):
    client.control("POST", "/settings", {"getfile_encoding": "raw"})
    body = client.live_response(commands=[get_file("C:\\Windows\\Temp\\dropper.log")]).json()
    advance(client, 10)
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % body["id"]).json()
    assert requests.get(link["value"], verify=client.verify).content == b"dropper started\n"


def test_missing_library_script_fails_and_stops_the_rest(client):
    body = client.live_response(commands=[run_script("nope.ps1"), get_file(TRIAGE)]).json()
    advance(client, 20)
    done = action(client, body["id"])
    assert done["status"] == "Failed"
    assert [c["commandStatus"] for c in done["commands"]] == ["Failed", "Created"]
    assert "library" in done["commands"][0]["errors"][0]


def test_script_behaviour_is_configurable(client):
    body = client.live_response(commands=[run_script("fail.ps1")]).json()
    advance(client, 10)
    link = client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % body["id"]).json()
    result = requests.get(link["value"], verify=client.verify).json()
    assert result["exit_code"] == 3 and result["script_errors"] == "Access is denied."


def test_runscript_timeout_is_enforced(client):
    client.control("POST", "/seed", {"library": [{"fileName": "slow.ps1", "content": "sleep 900"}]})
    body = client.live_response(commands=[run_script("slow.ps1")]).json()
    advance(client, 2 + 600)
    done = action(client, body["id"])
    assert done["status"] == "Failed"
    assert "timed out" in done["commands"][0]["errors"][0]


def test_one_live_response_per_machine(client):
    assert client.live_response().status_code == 201
    second = client.live_response()
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "ActiveRequestAlreadyExists"


def test_tenant_wide_session_cap(client):
    client.control("POST", "/settings", {"session_cap": 2})
    machines = [{"computerDnsName": "cap-%d.corp.example.com" % i} for i in range(3)]
    client.control("POST", "/seed", {"machines": machines})
    assert client.live_response(machine="cap-0.corp.example.com").status_code == 201
    assert client.live_response(machine="cap-1.corp.example.com").status_code == 201
    third = client.live_response(machine="cap-2.corp.example.com")
    assert third.status_code == 429
    assert third.headers["Retry-After"]


@pytest.mark.parametrize("status", [200, 201])
def test_runliveresponse_status_drift(client, status):
    client.control("POST", "/settings", {"liveresponse_status": status})
    assert client.live_response().status_code == status


def test_last_update_field_drift(client):
    client.control("POST", "/settings", {"last_update_field": "lastUpdateTimeUtc"})
    body = client.live_response().json()
    assert "lastUpdateTimeUtc" in body and "lastUpdateDateTimeUtc" not in body


def test_unknown_machine_is_404(client):
    assert client.live_response(machine="0" * 40).status_code == 404


# --- result links -------------------------------------------------------------------------------------
def _finished_link(client):
    body = client.live_response().json()
    advance(client, 10)
    return client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % body["id"]).json()["value"]


def test_result_link_expires(client):
    link = _finished_link(client)
    assert requests.get(link, verify=client.verify).status_code == 200
    advance(client, 1801)
    expired = requests.get(link, verify=client.verify)
    assert expired.status_code == 403 and "expired" in expired.text


def test_result_link_signature_is_checked(client):
    link = _finished_link(client)
    assert requests.get(link.replace("sig=", "sig=0"), verify=client.verify).status_code == 403


def test_blob_host_refuses_and_records_an_authorization_header(client):
    link = _finished_link(client)
    leaked = requests.get(link, headers=client.headers(), verify=client.verify)
    assert leaked.status_code == 403
    state = client.control("GET", "/state")
    assert len(state["leaks"]) == 1
    blob_entries = [e for e in client.control("GET", "/log")["value"] if e["host"] == "blob"]
    assert blob_entries[-1]["authorization"] is True
    assert "sig" not in str(blob_entries[-1])


# --- stop and quarantine ------------------------------------------------------------------------------
@pytest.mark.parametrize("body,code", [
    ({"Comment": "c", "Sha1": "xyz"}, "InvalidHashValue"),
    ({"Comment": "c", "Sha1": "a" * 64}, "InvalidHashValue"),
    ({"Sha1": SHA1}, "MissingRequiredParameter"),
    ({"Comment": "c"}, "MissingRequiredParameter"),
])
def test_quarantine_validation(client, body, code):
    response = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_quarantine_on_linux_is_not_supported(client):
    response = client.post("/api/machines/%s/StopAndQuarantineFile" % LINUX, {"Comment": "c", "Sha1": SHA1})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "OsPlatformNotSupported"


# --- cancel -------------------------------------------------------------------------------------------
def test_cancel_a_pending_action(client):
    body = client.live_response(machine=OFFLINE).json()
    cancelled = client.post("/api/machineactions/%s/cancel" % body["id"], {"Comment": "stop"})
    assert cancelled.status_code == 200
    entity = cancelled.json()
    assert entity["status"] == "Cancelled"
    assert entity["cancellationComment"] == "stop"
    assert entity["cancellationRequestor"] == "secops-responder"
    assert entity["cancellationDateTimeUtc"]
    advance(client, 100000)
    assert action(client, body["id"])["status"] == "Cancelled"


def test_cancel_a_final_action_answers_as_configured(client):
    body = client.post("/api/machines/%s/StopAndQuarantineFile" % WS1, {"Comment": "c", "Sha1": SHA1}).json()
    advance(client, 10)
    refused = client.post("/api/machineactions/%s/cancel" % body["id"], {"Comment": "late"})
    assert refused.status_code == 400
    client.control("POST", "/settings", {"cancel_final": "unchanged"})
    unchanged = client.post("/api/machineactions/%s/cancel" % body["id"], {"Comment": "late"})
    assert unchanged.status_code == 200 and unchanged.json()["status"] == "Succeeded"


def test_cancel_unknown_action_is_404(client):
    assert client.post("/api/machineactions/%s/cancel" % uuid.uuid4(), {"Comment": "x"}).status_code == 404


# --- other actions ------------------------------------------------------------------------------------
def test_isolate_twice_while_pending_is_refused(client):
    assert client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Full"}).status_code == 201
    again = client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Full"})
    assert again.status_code == 400 and "already in progress" in again.json()["error"]["message"]
    for verb, body in (("restrictCodeExecution", {"Comment": "c"}), ("runAntiVirusScan", {"Comment": "c",
                                                                                          "ScanType": "Quick"})):
        assert client.post("/api/machines/%s/%s" % (WS1, verb), body).status_code == 201


def test_scan_needs_a_scan_type_and_is_refused_while_one_is_pending(client):
    missing = client.post("/api/machines/%s/runAntiVirusScan" % WS1, {"Comment": "c"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingRequiredParameter"
    first = client.post("/api/machines/%s/runAntiVirusScan" % WS1, {"Comment": "c", "ScanType": "Full"})
    assert first.status_code == 201 and first.json()["scope"] == "Full"
    again = client.post("/api/machines/%s/runAntiVirusScan" % WS1, {"Comment": "c", "ScanType": "Quick"})
    assert again.status_code == 400 and "already in progress" in again.json()["error"]["message"]
    advance(client, 10)
    assert client.post("/api/machines/%s/runAntiVirusScan" % WS1, {"Comment": "c", "ScanType": "Quick"}
                       ).status_code == 201


@pytest.mark.parametrize("verb,body,linux_ok", [
    ("isolate", {"Comment": "c", "IsolationType": "Full"}, True),
    ("isolate", {"Comment": "c", "IsolationType": "Selective"}, False),
    ("restrictCodeExecution", {"Comment": "c"}, False),
    ("runAntiVirusScan", {"Comment": "c", "ScanType": "Quick"}, False),
])
def test_platform_gates(client, verb, body, linux_ok):
    response = client.post("/api/machines/%s/%s" % (LINUX, verb), body)
    if linux_ok:
        assert response.status_code == 201
    else:
        assert response.status_code == 400 and response.json()["error"]["code"] == "OsPlatformNotSupported"
        assert "Linux" in response.json()["error"]["message"]


def test_offboard_is_windows_only_answers_200_and_refuses_a_repeat_while_pending(client):
    assert client.post("/api/machines/%s/offboard" % LINUX, {"Comment": "c"}).json()["error"]["code"] == \
        "OsPlatformNotSupported"
    assert client.post("/api/machines/%s/offboard" % WS1, {}).json()["error"]["code"] == "MissingRequiredParameter"
    first = client.post("/api/machines/%s/offboard" % WS1, {"Comment": "c"})
    assert first.status_code == 200 and first.json()["type"] == "Offboard"
    again = client.post("/api/machines/%s/offboard" % WS1, {"Comment": "c"})
    assert again.status_code == 400 and "already in progress" in again.json()["error"]["message"]


def test_tags_one_and_many(client):
    one = client.post("/api/machines/%s/tags" % WS1, {"Value": "ir-hold", "Action": "Add"})
    assert one.status_code == 200 and "ir-hold" in one.json()["machineTags"]
    many = client.post("/api/machines/AddOrRemoveTagForMultipleMachines",
                       {"Value": "ir-hold", "Action": "Remove", "MachineIds": [WS1, LINUX]})
    assert many.status_code == 200
    assert "ir-hold" not in client.get("/api/machines/%s" % WS1).json()["machineTags"]
    too_many = client.post("/api/machines/AddOrRemoveTagForMultipleMachines",
                           {"Value": "x", "Action": "Add", "MachineIds": [WS1] * 501})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "MaximumBatchSizeExceeded"
    assert client.post("/api/machines/%s/tags" % WS1, {"Value": "x", "Action": "Toggle"}).status_code == 400


def indicator(value, kind, **extra):
    body = {"indicatorValue": value, "indicatorType": kind, "action": "Block", "title": "t", "description": "d"}
    body.update(extra)
    return body


def test_indicators_submit_or_update_list_delete(client):
    first = client.post("/api/indicators", indicator(SHA1, "FileSha1")).json()
    again = client.post("/api/indicators", indicator(SHA1.upper(), "FileSha1", action="Alert", severity="High")).json()
    assert again["id"] == first["id"] and again["action"] == "Alert"       # same value and type: updated
    listed = client.get("/api/indicators", params={"$filter": "indicatorValue eq '%s'" % SHA1}).json()["value"]
    assert [i["id"] for i in listed] == [first["id"]]
    assert client.delete("/api/indicators/%s" % first["id"]).status_code == 204
    assert client.delete("/api/indicators/%s" % first["id"]).status_code == 404


@pytest.mark.parametrize("body,code", [
    (indicator("10.0.0.0/24", "IpAddress"), "InvalidInput"),                 # no CIDR
    (indicator("evil.example.com", "DomainName", action="Audit"), "InvalidInput"),   # Audit needs generateAlert
    (indicator("abc", "FileSha256"), "InvalidInput"),
    ({"indicatorValue": "evil.example.com", "indicatorType": "DomainName", "action": "Block"}, "MissingRequiredParameter"),
])
def test_indicator_rules(client, body, code):
    response = client.post("/api/indicators", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_indicator_import_takes_500_and_reports_each(client):
    good = [indicator("%064x" % i, "FileSha256") for i in range(3)] + [indicator("1.2.3.0/8", "IpAddress")]
    result = client.post("/api/indicators/import", {"Indicators": good}).json()["value"]
    assert [r["isFailed"] for r in result] == [False, False, False, True]
    big = client.post("/api/indicators/import", {"Indicators": [indicator(SHA1, "FileSha1")] * 501})
    assert big.status_code == 400 and big.json()["error"]["code"] == "MaximumBatchSizeExceeded"


def test_containment_needs_a_comment(client):
    for verb in ("isolate", "unisolate", "restrictCodeExecution", "unrestrictCodeExecution"):
        response = client.post("/api/machines/%s/%s" % (WS1, verb), {})
        assert response.status_code == 400 and response.json()["error"]["code"] == "MissingRequiredParameter"


def test_investigation_package_uri_only_when_complete(client):
    body = client.post("/api/machines/%s/collectInvestigationPackage" % WS1, {"Comment": "c"}).json()
    assert client.get("/api/machineactions/%s/getPackageUri" % body["id"]).status_code == 404
    advance(client, 10)
    link = client.get("/api/machineactions/%s/getPackageUri" % body["id"]).json()["value"]
    assert link.startswith('"https://') and link.endswith('"')   # as documented: wrapped in literal quotes
    package = requests.get(link.strip('"'), verify=client.verify).content
    assert zipfile.ZipFile(io.BytesIO(package)).testzip() is None and len(package) == 3480


def test_the_package_link_is_a_short_lived_safedownload_link_not_a_blob_sas(client):
    body = client.post("/api/machines/%s/collectInvestigationPackage" % WS1, {"Comment": "c"}).json()
    advance(client, 10)
    link = client.get("/api/machineactions/%s/getPackageUri" % body["id"]).json()["value"].strip('"')
    assert "/safedownload/WDATP_Investigation_Package.zip?token=" in link
    assert "/blobs/" not in link and "sig=" not in link
    assert requests.get(link, verify=client.verify).status_code == 200
    advance(client, 301)  # valid a short time: 300 s by default, unlike the 30-minute result links
    expired = requests.get(link, verify=client.verify)
    assert expired.status_code == 403 and "expired" in expired.text
    assert requests.get(link.replace("token=", "token=x"), verify=client.verify).status_code == 403


def test_cancel_accepts_an_offboard(client):
    client.control("POST", "/machines/%s/online" % WS1, {"online": False})
    offboard = client.post("/api/machines/%s/offboard" % WS1, {"Comment": "c"}).json()
    cancelled = client.post("/api/machineactions/%s/cancel" % offboard["id"], {"Comment": "changed our mind"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "Cancelled"


# --- library ------------------------------------------------------------------------------------------
def test_library_upload_list_override_delete(client):
    def upload(content, override=None, description="d"):
        data = {"Description": description, "HasParameters": "true", "ParametersDescription": "-x"}
        if override is not None:
            data["OverrideIfExists"] = override
        return client.call("POST", "/api/libraryfiles", files={"file": ("new.ps1", content)}, data=data)

    created = upload(b"one")
    assert created.status_code == 200
    assert created.json()["sha256"] == hashlib.sha256(b"one").hexdigest()
    assert created.json()["hasParameters"] is True
    refused = upload(b"two")
    assert refused.status_code == 400 and "OverrideIfExists" in refused.json()["error"]["message"]
    assert upload(b"two", override="true").json()["sha256"] == hashlib.sha256(b"two").hexdigest()
    names = [f["fileName"] for f in client.get("/api/libraryfiles").json()["value"]]
    assert "new.ps1" in names
    assert client.call("DELETE", "/api/libraryfiles/new.ps1").status_code == 204
    assert client.call("DELETE", "/api/libraryfiles/new.ps1").status_code == 404
    client.control("POST", "/settings", {"max_upload_bytes": 10})
    assert upload(b"x" * 11, override="true").status_code == 400
    log = [e for e in client.control("GET", "/log")["value"] if e["path"] == "/api/libraryfiles"
           and e["method"] == "POST"]
    assert log[0]["body"]["file"] == {"filename": "new.ps1", "size": 3}


def test_indicators_filter_only_the_documented_properties(client):
    """Learn's "List Indicators API" lists the properties $filter may name; any other is a 400, never ignored."""
    assert client.get("/api/indicators", params={"$filter": "indicatorType eq 'FileSha1'"}).status_code == 200
    refused = client.get("/api/indicators", params={"$filter": "description eq 'x'"})
    assert refused.status_code == 400, refused.text
