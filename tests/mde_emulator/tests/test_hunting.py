"""Advanced hunting over real HTTPS: the answer's shape, permissions, the request's errors, the 30-day, row, size
and time limits, the two kinds of 429, the request log, escaped literals, and where the rows come from."""

import hashlib
import re
import uuid

import pytest
import requests

from conftest import advance
from mde_emulator import kql
from mde_emulator.state import deterministic_bytes
from mde_emulator.testclient import LINUX, READER, SHA1, WS1, Client

RUN = "/api/advancedqueries/run"
WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")


def hunt(client, query):
    return client.post(RUN, {"Query": query})


def results(client, query):
    response = hunt(client, query)
    assert response.status_code == 200, response.text
    return response.json()["Results"]


def app_with(client, roles):
    client_id = str(uuid.uuid4())
    client.control("POST", "/seed", {"apps": [{"client_id": client_id, "client_secret": "s", "roles": roles}]})
    return Client(client.emu, app=(client_id, "s"))


def error(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


# --- the answer ----------------------------------------------------------------------------------------
def test_learns_example_query_answers_stats_schema_and_results(client):
    response = hunt(client, "DeviceProcessEvents |where InitiatingProcessFileName =~ 'powershell.exe' |where "
                            "ProcessCommandLine contains 'install'|project Timestamp, FileName, "
                            "InitiatingProcessFileName, DeviceId|limit 2")
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["Stats", "Schema", "Results"]
    assert body["Schema"] == [{"Name": "Timestamp", "Type": "DateTime"}, {"Name": "FileName", "Type": "String"},
                              {"Name": "InitiatingProcessFileName", "Type": "String"},
                              {"Name": "DeviceId", "Type": "String"}]
    assert [(r["FileName"], r["DeviceId"]) for r in body["Results"]] == [("svc-update.exe", WS1)]
    assert ISO.match(body["Results"][0]["Timestamp"])
    stats = body["Stats"]
    assert stats["ExecutionTime"] == 0.5 and stats["resource_usage"]["cpu"]["total cpu"] == "00:00:00.5000000"
    assert stats["dataset_statistics"][0]["table_row_count"] == 1


def test_a_bare_table_answers_all_its_columns_in_schema_order(client):
    body = hunt(client, "DeviceLogonEvents | take 1").json()
    names = [c["Name"] for c in body["Schema"]]
    assert names[:5] == ["Timestamp", "DeviceId", "DeviceName", "ActionType", "LogonType"]
    assert set(body["Results"][0]) == set(names)
    types = {c["Name"]: c["Type"] for c in body["Schema"]}
    assert types["RemotePort"] == "Int32" and types["LogonId"] == "Int64" and types["IsLocalAdmin"] == "Boolean"


def test_summarize_and_order_over_http(client):
    rows = results(client, "DeviceLogonEvents | where ActionType == 'LogonSuccess' | summarize Logons = count() "
                           "by AccountName | order by AccountName asc")
    assert rows == [{"AccountName": n, "Logons": c} for n, c in
                    [("alice", 2), ("bob", 1), ("carol", 1), ("root", 1), ("svc-backup", 1)]]


# --- permissions and the request -----------------------------------------------------------------------
def test_it_needs_advanced_query_read(emu, client):
    refused = error(Client(emu, app=READER).post(RUN, {"Query": "DeviceInfo"}), 403)
    assert refused["code"] == "Forbidden" and "AdvancedQuery.Read.All" in refused["message"]
    for role in ("AdvancedQuery.Read.All", "AdvancedQuery.Read"):
        assert app_with(client, [role]).post(RUN, {"Query": "DeviceInfo | count"}).status_code == 200
    other_api = app_with(client, ["AdvancedHunting.Read.All"])   # the Defender XDR API's permission, not this one's
    assert other_api.post(RUN, {"Query": "DeviceInfo"}).status_code == 403


@pytest.mark.parametrize("body, code, text", [
    ({}, "MissingRequiredParameter", "Query is missing"),
    ({"query": "DeviceInfo"}, "MissingRequiredParameter", "case-sensitive"),
    ({"Query": ""}, "MissingRequiredParameter", "empty"),
    ({"Query": 5}, "InvalidRequestBody", "string"),
    (["DeviceInfo"], "InvalidRequestBody", "JSON object"),
])
def test_a_bad_body_is_400(client, body, code, text):
    refused = error(client.post(RUN, body), 400)
    assert refused["code"] == code and text in refused["message"]


def test_a_body_that_is_not_json_is_400(client):
    refused = error(client.call("POST", RUN, data="Query=DeviceInfo", headers=dict(
        client.headers(), **{"Content-Type": "application/json"})), 400)
    assert refused["code"] == "InvalidRequestBody"


@pytest.mark.parametrize("query, text", [
    ("DeviceInfo | where", "Syntax error"),
    ("DeviceInfo | where DeviceName = 'x'", "'=' is not a comparison"),
    ("DeviceInfo | join DeviceLogonEvents on DeviceId",
     "Unsupported by the emulator's KQL subset: the 'join' operator"),
    ("DeviceInfo | where Devicename == 'x'", "Failed to resolve scalar expression named 'Devicename'"),
    ("DeviceEvents | take 1", "Failed to resolve table or column expression named 'DeviceEvents'"),
    ("DeviceNetworkEvents | where RemotePort == '443'", "Cannot compare values of types int and string"),
    ("DeviceInfo | where DeviceName == 'a\\rb'", "the escape sequence \\r"),
])
def test_a_query_error_is_400_naming_the_problem(client, query, text):
    refused = error(hunt(client, query), 400)
    assert refused["code"] == "BadRequest" and text in refused["message"]


# --- limits --------------------------------------------------------------------------------------------
def test_thirty_days_back_is_the_limit(client):
    assert hunt(client, "DeviceInfo | where Timestamp > ago(30d) | count").status_code == 200
    assert hunt(client, "DeviceInfo | where Timestamp > ago(720h) | count").status_code == 200
    for query in ("DeviceInfo | where Timestamp > ago(31d)", "DeviceInfo | where Timestamp > ago(30d) or "
                  "Timestamp < ago(45d)", "DeviceInfo | where Timestamp > datetime(2001-01-01)"):
        refused = error(hunt(client, query), 400)
        assert refused["code"] == "BadRequest" and "30 days" in refused["message"]
    client.control("POST", "/settings", {"hunting_old_range": "clip"})
    assert results(client, "DeviceInfo | where Timestamp > ago(31d) | count") == [{"Count": 4}]


def test_rows_older_than_thirty_days_are_in_no_table_and_no_entity(client):
    old = "ab" * 20
    client.control("POST", "/events", {"DeviceFileEvents": [{"DeviceId": LINUX, "ago": "31d", "FileName": "old.sh",
                                                             "SHA1": old}]})
    assert results(client, "DeviceFileEvents | where SHA1 == '%s'" % old) == []
    assert client.get("/api/files/%s" % old).status_code == 404
    client.control("POST", "/events", {"DeviceFileEvents": [{"DeviceId": LINUX, "ago": "29d", "FileName": "old.sh",
                                                             "SHA1": old}]})
    assert len(results(client, "DeviceFileEvents | where SHA1 == '%s'" % old)) == 1
    advance(client, 2 * 86400)    # the data ages out as the clock moves
    assert results(client, "DeviceFileEvents | where SHA1 == '%s'" % old) == []


def test_more_rows_than_the_limit_is_400_or_cut(client):
    client.control("POST", "/settings", {"hunting_max_rows": 3})
    refused = error(hunt(client, "DeviceLogonEvents"), 400)
    assert "7 rows" in refused["message"] and "at most 3" in refused["message"]
    assert len(results(client, "DeviceLogonEvents | take 3")) == 3
    client.control("POST", "/settings", {"hunting_row_overflow": "truncate"})
    assert len(results(client, "DeviceLogonEvents")) == 3


def test_the_default_row_limit_is_learns_100000(client):
    assert client.control("GET", "/state")["settings"]["hunting_max_rows"] == 100000


def test_a_result_over_the_size_limit_is_learns_400(client):
    client.control("POST", "/settings", {"hunting_max_result_bytes": 500})
    refused = error(hunt(client, "DeviceProcessEvents"), 400)
    assert refused["message"] == ("Query execution has exceeded the allowed result size. Optimize your query by "
                                  "limiting the number of results and try again")
    assert hunt(client, "DeviceProcessEvents | count").status_code == 200


def test_a_query_over_the_time_limit_times_out_and_is_charged_the_limit(client):
    client.control("POST", "/settings", {"hunting_query_seconds": 250})
    refused = error(hunt(client, "DeviceInfo"), 400)
    assert refused["message"].startswith("Query exceeded the timeout period.")
    assert client.control("GET", "/state")["hunting"]["cpu_seconds"]["3600"] == 200


# --- the two 429s --------------------------------------------------------------------------------------
def test_the_call_rate_429_is_tenant_wide_and_says_which_quota(emu, client):
    assert client.control("GET", "/state")["settings"]["rate_limits"]["advancedqueries"] == [[45, 60], [1500, 3600]]
    client.control("POST", "/settings", {"rate_limits": {"advancedqueries": [[3, 60], [1500, 3600]]}})
    other = app_with(client, ["AdvancedQuery.Read.All"])
    assert [hunt(c, "DeviceInfo | count").status_code for c in (client, other, client)] == [200, 200, 200]
    for who in (client, other):   # per tenant, not per app
        response = hunt(who, "DeviceInfo | count")
        refused = error(response, 429)
        assert refused["code"] == "TooManyRequests"
        assert refused["message"] == "API calls quota exceeded! maximum allowed 3 per 00:01:00"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/api/machines").status_code == 200   # other routes have their own counters


def test_the_cpu_quota_429_is_a_different_body_and_says_when_it_refills(client):
    client.control("POST", "/settings", {"hunting_query_seconds": 100,
                                         "hunting_cpu_quota": [[250, 3600], [10800, 86400]]})
    assert [hunt(client, "DeviceInfo | count").status_code for _i in range(3)] == [200, 200, 200]
    assert client.control("GET", "/state")["hunting"]["cpu_seconds"] == {"3600": 300, "86400": 300}
    response = hunt(client, "DeviceInfo | count")
    refused = error(response, 429)
    assert refused["code"] == "TooManyRequests"
    assert refused["message"] == ("You have exceeded processing resources allocated to this tenant. You can run "
                                  "queries again in 01:00:00.")
    assert response.headers["Retry-After"] == "3600"    # the clock is frozen: emulated seconds
    assert "API calls quota" not in refused["message"]
    advance(client, 3599)
    assert hunt(client, "DeviceInfo | count").status_code == 429
    advance(client, 1)
    assert hunt(client, "DeviceInfo | count").status_code == 200


def test_the_daily_quota_and_its_reset(client):
    client.control("POST", "/settings", {"hunting_query_seconds": 60,
                                         "hunting_cpu_quota": [[100000, 3600], [120, 86400]]})
    hunt(client, "DeviceInfo | count")
    advance(client, 7200)
    hunt(client, "DeviceInfo | count")
    response = hunt(client, "DeviceInfo | count")
    assert error(response, 429)["message"].endswith("You can run queries again in 22:00:00.")
    client.control("DELETE", "/hunting/quota")
    assert hunt(client, "DeviceInfo | count").status_code == 200


def test_retry_after_is_in_real_seconds_when_the_clock_runs(client):
    client.control("POST", "/settings", {"clock_speed": 3600, "hunting_query_seconds": 10,
                                         "hunting_cpu_quota": [[10, 3600]]})
    hunt(client, "DeviceInfo | count")
    response = hunt(client, "DeviceInfo | count")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"


# --- the log -------------------------------------------------------------------------------------------
def test_the_request_log_has_the_exact_query(client):
    client.control("DELETE", "/log")
    query = "DeviceLogonEvents | where AccountName == %s // ünï ✓" % kql.quote("o'brien\n| take 1")
    hunt(client, query)
    client.call("POST", RUN, data=('{"Query": "DeviceInfo | count"}').encode(),
                headers=dict(client.headers(), **{"Content-Type": "text/plain"}))
    entries = [e for e in client.control("GET", "/log")["value"] if e["path"] == RUN]
    assert entries[0]["hunting_query"] == query and entries[0]["body"] == {"Query": query}
    assert entries[1]["hunting_query"] == "DeviceInfo | count"


# --- escaped literals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["alice' or 1==1 //", "alice'\n| take 100", "x\" or \"1\"==\"1", "alice\\",
                                   "' | where 1==1 | project AccountName //", "alice' or AccountName != '"])
def test_an_escaped_literal_matches_nothing_it_does_not_say(client, value):
    assert results(client, "DeviceLogonEvents | where AccountName == %s" % kql.quote(value)) == []
    assert results(client, "DeviceLogonEvents | where AccountName =~ %s | count" % kql.quote(value)) == [
        {"Count": 0}]


def test_an_escaped_literal_with_a_quote_matches_exactly_that_text(client):
    client.control("POST", "/events", {"DeviceLogonEvents": [
        {"DeviceId": WS1, "ago": "1h", "ActionType": "LogonSuccess", "AccountName": "o'brien", "AccountDomain": "CORP"},
        {"DeviceId": WS1, "ago": "1h", "ActionType": "LogonSuccess", "AccountName": "o'brien' or 1==1 //",
         "AccountDomain": "CORP"},
        {"DeviceId": WS1, "ago": "1h", "ActionType": "LogonSuccess", "AccountName": "o\\'brien",
         "AccountDomain": "CORP"}]})
    for name in ("o'brien", "o'brien' or 1==1 //", "o\\'brien"):
        rows = results(client, "DeviceLogonEvents | where AccountName == %s | project AccountName" % kql.quote(name))
        assert rows == [{"AccountName": name}]
    verbatim = results(client, "DeviceLogonEvents | where AccountName == @'o''brien' | project AccountName")
    assert verbatim == [{"AccountName": "o'brien"}]
    unescaped = hunt(client, "DeviceLogonEvents | where AccountName == 'o'brien'")   # a broken query, not a match
    assert unescaped.status_code == 400


# --- where the rows come from --------------------------------------------------------------------------
def test_a_devices_files_are_file_events_with_the_hashes_of_their_bytes(client):
    rows = results(client, "DeviceFileEvents | where DeviceId == '%s' and FileName == 'invoice.pdf.exe'" % WS1)
    data = deterministic_bytes("%s:%s" % (WS1, "c:\\users\\alice\\downloads\\invoice.pdf.exe"), 40960)
    assert len(rows) == 1
    assert rows[0]["SHA1"] == hashlib.sha1(data).hexdigest() and rows[0]["SHA256"] == hashlib.sha256(data).hexdigest()
    assert rows[0]["FolderPath"] == "C:\\Users\\alice\\Downloads\\invoice.pdf.exe" and rows[0]["FileSize"] == 40960
    process = results(client, "DeviceProcessEvents | where FileName == 'invoice.pdf.exe'")   # seeded without hashes
    assert process[0]["SHA1"] == rows[0]["SHA1"]
    child = results(client, "DeviceProcessEvents | where FileName == 'powershell.exe'")[0]
    assert child["InitiatingProcessSHA1"] == rows[0]["SHA1"] and child["InitiatingProcessFileName"] == "invoice.pdf.exe"


def test_a_file_a_script_leaves_becomes_a_file_event(client):
    client.live_response()
    advance(client, 30)
    rows = results(client, "DeviceFileEvents | where FileName == 'triage.txt' | project DeviceId, FileSize")
    assert rows == [{"DeviceId": WS1, "FileSize": 200000}]


def test_an_alerts_evidence_becomes_events_on_its_device(client):
    bad = "c" * 40
    client.control("POST", "/alerts", {"title": "Miner", "severity": "High", "machineId": LINUX, "evidence": [
        {"entityType": "File", "sha1": bad, "fileName": "xmrig", "filePath": "/tmp/.x"},
        {"entityType": "Ip", "ipAddress": "192.0.2.99"},
        {"entityType": "Url", "url": "http://pool.mining.example:3333/submit"},
        {"entityType": "User", "accountName": "www-data", "domainName": "srv-web-01"}]})
    files = results(client, "DeviceFileEvents | where SHA1 == '%s' | project DeviceId, FolderPath" % bad)
    assert files == [{"DeviceId": LINUX, "FolderPath": "/tmp/.x/xmrig"}]
    processes = results(client, "DeviceProcessEvents | where SHA1 == '%s' | project AccountName" % bad)
    assert processes == [{"AccountName": "www-data"}]
    network = results(client, "DeviceNetworkEvents | where DeviceId == '%s' and RemotePort == 443 | project "
                              "RemoteIP, RemoteUrl, InitiatingProcessSHA1 | order by RemoteIP asc" % LINUX)
    assert network[0] == {"RemoteIP": "192.0.2.99", "RemoteUrl": "", "InitiatingProcessSHA1": bad}
    assert network[1]["RemoteUrl"] == "http://pool.mining.example:3333/submit"
    logons = results(client, "DeviceLogonEvents | where AccountName == 'www-data' | project DeviceId, ActionType")
    assert logons == [{"DeviceId": LINUX, "ActionType": "LogonSuccess"}]


def test_events_added_through_the_control_api(client):
    added = client.control("POST", "/events", {"DeviceNetworkEvents": [
        {"DeviceName": "ws-fin-002.corp.example.com", "Timestamp": "2020-01-01T00:00:00Z", "RemoteIP": "192.0.2.1"},
        {"DeviceId": WS2, "ago": "5m", "RemoteIP": "192.0.2.1", "RemotePort": 8443, "ActionType": "ConnectionSuccess"}
    ]})
    assert added == {"added": {"DeviceNetworkEvents": 2}}
    rows = results(client, "DeviceNetworkEvents | where RemoteIP == '192.0.2.1' | project DeviceName, RemotePort")
    assert rows == [{"DeviceName": "ws-fin-002.corp.example.com", "RemotePort": 8443}]   # 2020 is past the 30 days
    tables = client.control("GET", "/events")
    assert any(r["RemoteIP"] == "192.0.2.1" and ISO.match(r["Timestamp"]) for r in tables["DeviceNetworkEvents"])


@pytest.mark.parametrize("body, text", [
    ({"DeviceNetworkEvents": [{"DeviceId": WS1, "RemoteIp": "1.2.3.4"}]}, "no column RemoteIp"),
    ({"DeviceNetworkEvents": [{"RemoteIP": "1.2.3.4"}]}, "needs DeviceId or DeviceName"),
    ({"DeviceNetworkEvents": [{"DeviceId": "nope"}]}, "no device"),
    ({"DeviceNetworkEvents": [{"DeviceId": WS1, "RemotePort": "443"}]}, "whole number"),
    ({"DeviceNetworkEvents": [{"DeviceId": WS1, "ago": "yesterday"}]}, "ago must be a timespan"),
    ({"DeviceEvents": []}, "no table"),
    ({"DeviceInfo": [{"DeviceId": WS1}]}, "derived from the devices"),
])
def test_bad_events_are_refused_whole(client, body, text):
    response = requests.post(client.info["control_url"] + "/events", json=body, verify=client.verify,
                             headers={"X-Emulator-Key": client.info["control_key"]}, timeout=10)
    assert response.status_code == 400 and text in response.json()["error"]["message"]


def test_device_info_reflects_the_devices(client):
    rows = results(client, "DeviceInfo | project DeviceId, OSPlatform, DeviceManualTags, LoggedOnUsers, "
                           "SensorHealthState | order by DeviceId asc")
    assert [r["DeviceId"] for r in rows][0] == WS1
    assert rows[0]["OSPlatform"] == "Windows11" and rows[0]["DeviceManualTags"] == '["finance", "tier-1"]'
    assert '"UserName": "alice"' in rows[0]["LoggedOnUsers"]
    assert {r["SensorHealthState"] for r in rows} == {"Active", "Inactive"}


def test_the_union_of_the_file_tables(client):
    rows = results(client, "union DeviceFileEvents, DeviceProcessEvents | where SHA1 == '%s' | distinct DeviceId, "
                           "ActionType | order by DeviceId asc, ActionType asc" % SHA1)
    assert rows == [{"DeviceId": WS1, "ActionType": "FileCreated"}, {"DeviceId": WS1, "ActionType": "ProcessCreated"},
                    {"DeviceId": WS2, "ActionType": "FileCreated"}, {"DeviceId": WS2, "ActionType": "ProcessCreated"}]
