"""The entity routes over real HTTPS: they agree with advanced hunting, answer what Learn says for unknown and
invalid entities, check Learn's permissions and count calls in their own rate classes."""

import uuid

import pytest

from mde_emulator import kql
from mde_emulator.testclient import LINUX, OFFLINE, READER, SHA1, WS1, Client

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
SHA256 = "3f1c8a7e5d4b2a190817f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a291"   # the seeded svc-update.exe
C2_IP = "198.51.100.23"
C2 = "c2.badcdn.example"


def hunt(client, query):
    response = client.post("/api/advancedqueries/run", {"Query": query})
    assert response.status_code == 200, response.text
    return response.json()["Results"]


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def ids(response):
    return sorted(item["id"] for item in ok(response)["value"])


def error(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


def app_with(client, roles):
    client_id = str(uuid.uuid4())
    client.control("POST", "/seed", {"apps": [{"client_id": client_id, "client_secret": "s", "roles": roles}]})
    return Client(client.emu, app=(client_id, "s"))


def alert(client, machine=LINUX, **evidence):
    items = [dict({"entityType": kind}, **fields) for kind, fields in evidence.items()]
    return client.control("POST", "/alerts", {"title": "t", "severity": "High", "machineId": machine,
                                              "evidence": items})


# --- files ---------------------------------------------------------------------------------------------
def test_the_files_api_and_hunting_agree_on_every_seeded_sha1(client):
    hashes = [r["SHA1"] for r in hunt(client, "union DeviceFileEvents, DeviceProcessEvents | where isnotempty(SHA1) "
                                              "| distinct SHA1")]
    assert SHA1 in hashes and len(hashes) >= 5
    for sha1 in hashes:
        hunted = sorted(r["DeviceId"] for r in hunt(client, "union DeviceFileEvents, DeviceProcessEvents | where "
                                                            "SHA1 == %s | distinct DeviceId" % kql.quote(sha1)))
        assert ids(client.get("/api/files/%s/machines" % sha1)) == hunted, sha1
    assert ids(client.get("/api/files/%s/machines" % SHA1)) == sorted([WS1, WS2])


def test_file_information_by_sha1_or_sha256(client):
    body = ok(client.get("/api/files/%s" % SHA1))
    assert body["@odata.context"].endswith("/api/$metadata#Files/$entity")
    assert body["sha1"] == SHA1 and body["sha256"] == SHA256 and body["size"] == 53248 and body["isPeFile"] is True
    assert body["globalPrevalence"] == 2 and body["determinationType"] == "Unknown"
    by_sha256 = ok(client.get("/api/files/%s" % SHA256.upper()))
    assert by_sha256 == body
    assert error(client.get("/api/files/%s" % ("0" * 40)), 404)["code"] == "ResourceNotFound"
    assert error(client.get("/api/files/%s" % ("0" * 32)), 400)["code"] == "InvalidHashValue"   # MD5: not Learn's
    assert error(client.get("/api/files/not-a-hash"), 400)["code"] == "InvalidHashValue"


def test_a_file_in_an_alert_is_malware(client):
    alert(client, File={"sha1": SHA1, "fileName": "svc-update.exe"})
    assert ok(client.get("/api/files/%s" % SHA1))["determinationType"] == "Malware"


def test_file_statistics_count_devices_within_the_look_back(client):
    body = ok(client.get("/api/files/%s/stats" % SHA1))
    assert body["organizationPrevalence"] == 2 and body["globallyPrevalence"] == 2
    assert body["topFileNames"] == ["svc-update.exe"] and body["orgFirstSeen"] < body["orgLastSeen"]
    recent = ok(client.get("/api/files/%s/stats" % SHA1, params={"lookBackHours": 3}))   # WS2 ran it 170 min ago
    assert recent["organizationPrevalence"] == 1
    assert ok(client.get("/api/files/%s/stats" % SHA1, params={"lookBackHours": 1}))["orgFirstSeen"] is None
    hunted = hunt(client, "union DeviceFileEvents, DeviceProcessEvents | where SHA1 == '%s' and Timestamp > ago(3h) "
                          "| summarize dcount(DeviceId)" % SHA1)
    assert hunted == [{"dcount_DeviceId": 1}]
    for bad in ("721", "0", "two"):
        assert error(client.get("/api/files/%s/stats" % SHA1, params={"lookBackHours": bad}), 400)["code"] == \
            "InvalidInput"
    assert client.get("/api/files/%s/stats" % ("0" * 40)).status_code == 404


def test_file_machines_and_alerts_take_a_sha1_only(client):
    assert error(client.get("/api/files/%s/machines" % SHA256), 400)["code"] == "InvalidHashValue"
    assert error(client.get("/api/files/%s/alerts" % SHA256), 400)["code"] == "InvalidHashValue"
    assert ok(client.get("/api/files/%s/machines" % ("0" * 40)))["value"] == []     # unknown: an empty set
    assert ok(client.get("/api/files/%s/alerts" % ("0" * 40)))["value"] == []


def test_file_alerts_are_the_alerts_whose_evidence_names_it(client):
    made = alert(client, machine=WS1, File={"sha1": SHA1.upper(), "fileName": "svc-update.exe"})
    alert(client, machine=WS1, File={"sha1": "d" * 40})
    listed = ok(client.get("/api/files/%s/alerts" % SHA1))
    assert [a["id"] for a in listed["value"]] == [made["id"]] and "evidence" not in listed["value"][0]
    assert listed["@odata.context"].endswith("#Alerts")


# --- IPs and domains -----------------------------------------------------------------------------------
def test_ip_statistics_agree_with_hunting(client):
    body = ok(client.get("/api/ips/%s/stats" % C2_IP))
    hunted = hunt(client, "DeviceNetworkEvents | where RemoteIP == '%s' | summarize dcount(DeviceId), "
                          "min(Timestamp), max(Timestamp)" % C2_IP)[0]
    assert body["ipAddress"] == C2_IP and body["organizationPrevalence"] == hunted["dcount_DeviceId"] == 3
    assert (body["orgFirstSeen"], body["orgLastSeen"]) == (hunted["min_Timestamp"], hunted["max_Timestamp"])
    assert ok(client.get("/api/ips/%s/stats" % C2_IP, params={"lookBackHours": 4}))["organizationPrevalence"] == 1
    unknown = ok(client.get("/api/ips/192.0.2.200/stats"))
    assert unknown["organizationPrevalence"] == 0 and unknown["orgFirstSeen"] is None
    for bad in ("999.1.1.1", "not-an-ip", "10.0.0"):
        assert error(client.get("/api/ips/%s/stats" % bad), 400)["code"] == "InvalidIpAddress"
        assert error(client.get("/api/ips/%s/alerts" % bad), 400)["code"] == "InvalidIpAddress"


def test_ip_alerts(client):
    made = alert(client, Ip={"ipAddress": C2_IP})
    assert [a["id"] for a in ok(client.get("/api/ips/%s/alerts" % C2_IP))["value"]] == [made["id"]]
    assert ok(client.get("/api/ips/2001:db8::1/alerts"))["value"] == []


def test_domain_statistics_and_machines_agree_with_hunting(client):
    body = ok(client.get("/api/domains/%s/stats" % C2))
    assert body["host"] == C2 and body["organizationPrevalence"] == 2
    hunted = sorted(r["DeviceId"] for r in hunt(client, "DeviceNetworkEvents | where RemoteUrl has %s | distinct "
                                                        "DeviceId" % kql.quote(C2)))
    assert ids(client.get("/api/domains/%s/machines" % C2)) == hunted == sorted([WS1, WS2])
    # a URL's host counts, its path and case do not; a parent domain is another domain
    assert ids(client.get("/api/domains/UPDATE.badcdn.example/machines")) == [WS1]
    assert ok(client.get("/api/domains/badcdn.example/machines"))["value"] == []
    assert ok(client.get("/api/domains/badcdn.example/stats"))["organizationPrevalence"] == 0
    assert error(client.get("/api/domains/bad_do%20main!/stats"), 400)["code"] == "InvalidDomainName"
    assert error(client.get("/api/domains/-bad.example/machines"), 400)["code"] == "InvalidDomainName"


def test_domain_alerts_need_alert_readwrite_on_the_current_page(emu, client):
    made = alert(client, Url={"url": "https://%s/beacon" % C2})
    reader = app_with(client, ["Alert.Read.All"])
    refused = error(reader.get("/api/domains/%s/alerts" % C2), 403)
    assert "Alert.ReadWrite.All" in refused["message"] and "Alert.Read.All," not in refused["message"]
    assert [a["id"] for a in ok(client.get("/api/domains/%s/alerts" % C2))["value"]] == [made["id"]]   # ReadWrite
    client.control("POST", "/settings", {"entity_permissions": "legacy"})
    assert [a["id"] for a in ok(reader.get("/api/domains/%s/alerts" % C2))["value"]] == [made["id"]]
    assert ok(client.get("/api/domains/other.example/alerts"))["value"] == []


# --- users ---------------------------------------------------------------------------------------------
def test_user_machines_agree_with_hunting(emu, client):
    hunted = sorted(r["DeviceId"] for r in hunt(client, "DeviceLogonEvents | where AccountName =~ 'ALICE' and "
                                                        "ActionType == 'LogonSuccess' | distinct DeviceId"))
    assert ids(client.get("/api/users/alice/machines")) == hunted == sorted([WS1, WS2])
    assert ids(client.get("/api/users/Carol/machines")) == [OFFLINE]
    assert ok(client.get("/api/users/administrator/machines"))["value"] == []     # its logon failed
    assert ok(client.get("/api/users/alice@corp.example.com/machines"))["value"] == []   # the name, not the UPN
    assert ok(client.get("/api/users/nobody/machines"))["value"] == []


def test_user_machines_need_machine_readwrite_on_the_current_page(emu, client):
    reader = Client(emu, app=READER)   # Machine.Read.All
    assert "Machine.ReadWrite.All" in error(reader.get("/api/users/alice/machines"), 403)["message"]
    client.control("POST", "/settings", {"entity_permissions": "legacy"})
    assert ids(reader.get("/api/users/alice/machines")) == sorted([WS1, WS2])


def test_user_alerts(client):
    made = alert(client, machine=WS1, User={"accountName": "Alice", "domainName": "CORP"})
    alert(client, machine=WS1, User={"accountName": "bob", "domainName": "CORP"})
    assert [a["id"] for a in ok(client.get("/api/users/alice/alerts"))["value"]] == [made["id"]]
    assert ok(client.get("/api/users/nobody/alerts"))["value"] == []


def test_logon_users_of_a_device(emu, client):
    body = ok(client.get("/api/machines/%s/logonusers" % WS1))
    assert body["@odata.context"].endswith("#Users")
    users = {u["id"]: u for u in body["value"]}
    assert set(users) == {"CORP\\alice", "CORP\\svc-backup"}
    assert users["CORP\\alice"]["logonTypes"] == "Interactive" and users["CORP\\alice"]["isOnlyNetworkUser"] is False
    assert users["CORP\\svc-backup"]["isOnlyNetworkUser"] is True
    assert set(users["CORP\\alice"]) == {"id", "accountName", "accountDomain", "firstSeen", "lastSeen", "logonTypes",
                                         "isDomainAdmin", "isOnlyNetworkUser"}
    by_name = ok(client.get("/api/machines/ws-fin-002.corp.example.com/logonusers"))
    assert sorted(u["accountName"] for u in by_name["value"]) == ["alice", "bob"]
    assert error(client.get("/api/machines/%s/logonusers" % ("0" * 40)), 404)["code"] == "ResourceNotFound"
    assert "User.Read.All" in error(Client(emu, app=READER).get("/api/machines/%s/logonusers" % WS1), 403)["message"]


# --- an alert and its entities -------------------------------------------------------------------------
def test_an_alert_by_id_shows_evidence_with_expand_as_the_list_does(client):
    made = alert(client, File={"sha1": SHA1})
    plain = ok(client.get("/api/alerts/%s" % made["id"]))
    assert plain["id"] == made["id"] and plain["machineId"] == LINUX and "evidence" not in plain
    expanded = ok(client.get("/api/alerts/%s" % made["id"], params={"$expand": "evidence"}))
    assert expanded["evidence"][0]["sha1"] == SHA1
    listed = ok(client.get("/api/alerts", params={"$expand": "evidence"}))["value"]
    assert [a for a in listed if a["id"] == made["id"]] == [expanded]
    assert error(client.get("/api/alerts/%s" % made["id"], params={"$expand": "machine"}), 400)["code"] == \
        "ODataError"
    client.control("POST", "/settings", {"alert_evidence_by_id": "always"})
    assert ok(client.get("/api/alerts/%s" % made["id"]))["evidence"][0]["sha1"] == SHA1
    assert error(client.get("/api/alerts/da0000"), 404)["code"] == "ResourceNotFound"


def test_an_alerts_related_entities(client):
    made = alert(client, machine=WS1, File={"sha1": SHA1, "fileName": "svc-update.exe"},
                 Ip={"ipAddress": C2_IP}, Url={"url": "https://%s:8443/x?y=1" % C2},
                 User={"accountName": "alice", "domainName": "CORP", "userSid": "S-1-5-21-1"})
    base = "/api/alerts/%s" % made["id"]
    files = ok(client.get(base + "/files"))
    assert files["@odata.context"].endswith("#Files") and [f["sha1"] for f in files["value"]] == [SHA1]
    assert files["value"][0]["md5"] is None and files["value"][0]["globalPrevalence"] == 2
    assert ok(client.get(base + "/ips"))["value"] == [{"id": C2_IP}]
    assert ok(client.get(base + "/domains"))["value"] == [{"host": C2}]
    assert ok(client.get(base + "/machine"))["id"] == WS1
    user = ok(client.get(base + "/user"))
    assert user["id"] == "CORP\\alice" and user["accountSid"] == "S-1-5-21-1" and user["logOnMachinesCount"] == 2
    assert user["logonTypes"] == "Interactive, RemoteInteractive" and user["mostPrevalentMachineId"] in (WS1, WS2)


def test_an_alert_without_those_entities(client):
    bare = client.control("POST", "/alerts", {"title": "no device", "severity": "Low"})
    base = "/api/alerts/%s" % bare["id"]
    assert [ok(client.get(base + "/" + what))["value"] for what in ("files", "ips", "domains")] == [[], [], []]
    assert error(client.get(base + "/machine"), 404)["code"] == "ResourceNotFound"
    assert error(client.get(base + "/user"), 404)["code"] == "ResourceNotFound"
    for what in ("files", "ips", "domains", "machine", "user"):
        assert client.get("/api/alerts/da0000/%s" % what).status_code == 404


# --- permissions and rate classes ----------------------------------------------------------------------
ROUTES = [
    ("/api/files/%s" % SHA1, "File.Read.All"),
    ("/api/files/%s/stats" % SHA1, "File.Read.All"),
    ("/api/files/%s/machines" % SHA1, "Machine.Read.All"),
    ("/api/files/%s/alerts" % SHA1, "Alert.Read.All"),
    ("/api/ips/%s/stats" % C2_IP, "Ip.Read.All"),
    ("/api/ips/%s/alerts" % C2_IP, "Alert.Read.All"),
    ("/api/domains/%s/stats" % C2, "URL.Read.All"),
    ("/api/domains/%s/machines" % C2, "Machine.Read.All"),
    ("/api/domains/%s/alerts" % C2, "Alert.ReadWrite.All"),
    ("/api/users/alice/machines", "Machine.ReadWrite.All"),
    ("/api/users/alice/alerts", "Alert.Read.All"),
    ("/api/machines/%s/logonusers" % WS1, "User.Read.All"),
    ("/api/machines/%s/alerts" % WS1, "Alert.Read.All"),
    ("/api/alerts/{id}", "Alert.Read.All"),
    ("/api/alerts/{id}/files", "File.Read.All"),
    ("/api/alerts/{id}/ips", "Ip.Read.All"),
    ("/api/alerts/{id}/domains", "URL.Read.All"),
    ("/api/alerts/{id}/user", "User.Read.All"),
    ("/api/alerts/{id}/machine", "Machine.Read.All"),
]


@pytest.mark.parametrize("path, role", ROUTES)
def test_each_route_needs_learns_permission(client, path, role):
    made = alert(client, machine=WS1, User={"accountName": "alice", "domainName": "CORP"})
    path = path.replace("{id}", made["id"])
    refused = error(app_with(client, ["Ti.ReadWrite.All"]).get(path), 403)
    assert refused["code"] == "Forbidden" and role in refused["message"]
    assert app_with(client, [role]).get(path).status_code == 200


def test_each_route_counts_in_its_own_rate_class(client):
    client.control("POST", "/settings", {"rate_limits": {"file_stats": [[2, 60]]}})
    assert [client.get("/api/files/%s/stats" % SHA1).status_code for _i in range(3)] == [200, 200, 429]
    assert client.get("/api/files/%s/machines" % SHA1).status_code == 200
    assert client.get("/api/files/%s" % SHA1).status_code == 200
    assert client.get("/api/machines").status_code == 200


# --- a device's alerts, and the alert list's filters (Learn, get-machine-related-alerts and get-alerts) -------------
def test_a_devices_alerts(client):
    mine = alert(client, machine=WS1, File={"sha1": SHA1})
    other = alert(client, machine=WS2, File={"sha1": SHA1})
    found = ids(client.get("/api/machines/%s/alerts" % WS1))
    assert mine["id"] in found and other["id"] not in found
    assert ids(client.get("/api/machines/ws-fin-002.corp.example.com/alerts")) == sorted(
        [a["id"] for a in ok(client.get("/api/alerts"))["value"] if a["machineId"] == WS2])
    assert error(client.get("/api/machines/%s/alerts" % ("0" * 40)), 404)["code"] == "ResourceNotFound"


def test_the_alert_list_filters_on_the_properties_learn_lists_in_2025(client):
    made = alert(client, machine=WS1, File={"sha1": SHA1})
    for expression in ("assignedTo eq null", "detectionSource eq 'WindowsDefenderAv'",
                       "lastEventTime ge 2000-01-01T00:00:00Z"):
        assert made["id"] in ids(client.get("/api/alerts", params={"$filter": expression})), expression
    assert error(client.get("/api/alerts", params={"$filter": "machineId eq '%s'" % WS1}), 400)["code"] == "ODataError"
