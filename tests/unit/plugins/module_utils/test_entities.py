"""The entity pivots: the checks that run before anything is sent, the rate classes and permissions of the entity
routes, the alert filters as OData and as a test, and a fleet of files through the real client and the emulator."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._budget import DEFAULT_LIMITS, rate_class
from ansible_collections.secops.defender.plugins.module_utils._entities import (
    FILES,
    AlertQuery,
    check_domain,
    check_entities,
    check_file,
    check_ip,
    check_user,
    pivot,
    pivot_result,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._specs import permission_for

SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
SHA256 = "3f1c8a7e5d4b2a190817f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a291"
WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


@pytest.mark.parametrize("check, given, expected", [
    (check_file, " %s " % SHA1.upper(), (SHA1, "sha1")),
    (check_file, SHA256, (SHA256, "sha256")),
    (check_ip, "2001:DB8:0:0::1", ("2001:db8::1", "ip")),
    (check_domain, "C2.BadCDN.example.", ("c2.badcdn.example", "domain")),
    (check_user, "svc-backup", ("svc-backup", "user")),
])
def test_entities_are_normalized(check, given, expected):
    assert check(given) == expected


@pytest.mark.parametrize("check, given, words", [
    (check_file, "d41d8cd98f00b204e9800998ecf8427e", "not MD5"),
    (check_file, None, "is not a SHA-1"),
    (check_ip, "198.51.100.0/24", "is not an IP address"),
    (check_domain, "https://c2.badcdn.example/x", "is a URL or a path"),
    (check_domain, "c2.badcdn.example:443", "is not a domain name"),
    (check_domain, "..", "is not a domain name"),
    (check_user, "alice@contoso.com", "alice for alice@contoso.com"),
    (check_user, "CORP\\alice", "alice for CORP\\alice"),
    (check_user, "al ice", "without spaces"),
    (check_user, "../machines", "is not a user name"),
])
def test_malformed_entities_are_refused(check, given, words):
    with pytest.raises(DefenderInputError) as caught:
        check(given)
    assert words in str(caught.value)


def test_an_entity_given_twice_is_read_once():
    assert check_entities([SHA1, SHA1.upper(), SHA256], "files", check_file) == [
        (SHA1, SHA1, "sha1"), (SHA256, SHA256, "sha256")]
    with pytest.raises(DefenderInputError, match="files is empty"):
        check_entities([], "files", check_file)


@pytest.mark.parametrize("path, klass, permission", [
    ("/api/files/%s" % SHA1, "files", "File.Read.All"),
    ("/api/files/%s/stats" % SHA1, "file_stats", "File.Read.All"),
    ("/api/files/%s/machines" % SHA1, "file_machines", "Machine.Read.All"),
    ("/api/files/%s/alerts" % SHA1, "file_alerts", "Alert.Read.All"),
    ("/api/ips/198.51.100.23/stats", "ip_stats", "Ip.Read.All"),
    ("/api/ips/198.51.100.23/alerts", "ip_alerts", "Alert.Read.All"),
    ("/api/domains/c2.badcdn.example/stats", "domain_stats", "URL.Read.All"),
    ("/api/domains/c2.badcdn.example/machines", "domain_machines", "Machine.Read.All"),
    ("/api/domains/c2.badcdn.example/alerts", "domain_alerts", "Alert.ReadWrite.All"),
    ("/api/users/alice/machines", "user_machines", "Machine.ReadWrite.All"),
    ("/api/users/alice/alerts", "user_alerts", "Alert.Read.All"),
    ("/api/machines/%s/logonusers" % WS1, "logonusers", "User.Read.All"),
    ("/api/machines/%s/alerts" % WS1, "machine_alerts", "Alert.Read.All"),
    ("/api/alerts/da1/files", "alert_files", "File.Read.All"),
    ("/api/alerts/da1/ips", "alert_ips", "Ip.Read.All"),
    ("/api/alerts/da1/domains", "alert_domains", "URL.Read.All"),
    ("/api/alerts/da1/user", "alert_user", "User.Read.All"),
    ("/api/alerts/da1/machine", "alert_machine", "Machine.Read.All"),
])
def test_each_entity_route_has_its_learn_limits_and_permission(path, klass, permission):
    assert rate_class(path) == klass and DEFAULT_LIMITS[klass] == [[100, 60], [1500, 3600]]
    assert permission_for(path).startswith(permission)


def test_the_other_routes_keep_their_classes():
    for path in ("/api/alerts/da1", "/api/machines/%s" % WS1, "/api/machines/%s/isolate" % WS1, "/api/machines",
                 "/api/machines/findbytag", "/api/machineactions/x/cancel"):
        assert rate_class(path) == "default", path
    assert rate_class("/api/machines/%s/runliveresponse" % WS1) == "runliveresponse"


def test_the_alert_filters_are_one_odata_expression_and_one_test():
    query = AlertQuery({"status": ["New", "InProgress"], "severity": ["High"],
                        "created_after": "2026-11-01T00:00:00Z", "updated_before": "2026-12-01T00:00:00Z",
                        "filter": "category eq 'Malware'"})
    assert query.odata == ("(status eq 'New' or status eq 'InProgress') and severity eq 'High' and "
                           "alertCreationTime ge 2026-11-01T00:00:00Z and lastUpdateTime lt 2026-12-01T00:00:00Z "
                           "and (category eq 'Malware')")
    assert query.with_ids(["da1"]).startswith("id eq 'da1' and (status")
    alert = {"status": "New", "severity": "High", "alertCreationTime": "2026-11-01T00:00:00.1234567Z",
             "lastUpdateTime": "2026-11-30T23:59:59.9Z"}
    assert query.matches(alert)
    assert not query.matches(dict(alert, alertCreationTime="2026-10-31T23:59:59.99Z"))   # compared as instants
    assert not query.matches(dict(alert, lastUpdateTime="2026-12-01T00:00:00Z"))
    assert not query.matches(dict(alert, severity="Low"))
    with pytest.raises(DefenderInputError, match="give their ids in machines"):
        AlertQuery({"filter": "machineId eq 'x'"})
    with pytest.raises(DefenderInputError, match="is not a UTC time"):
        AlertQuery({"updated_after": "2026-13-01"})


def test_a_fleet_of_files_is_read_in_parallel_within_the_budget(client, control):
    unknown = ["%040x" % (0xf11e0000 + i) for i in range(30)]
    entities = check_entities([SHA1] + unknown + [SHA256], "files", check_file)
    control("DELETE", "/log")
    rows = pivot(client, FILES, entities, ["info", "machines"], concurrency=8)
    result = pivot_result(rows, FILES, client=client)
    assert result["summary"] == {"entities": 32, "found": 2, "not_found": 30, "failed": 0, "machines": 2, "alerts": 0}
    assert sorted(result["machine_ids"]) == sorted([WS1, WS2])
    assert [m["found_by"] for m in result["machines"]] == [[SHA1, SHA256], [SHA1, SHA256]]
    calls = control.api_calls("GET")
    # One information call per file; devices only for the two known ones, both by the SHA-1.
    assert len(calls) == 32 + 2
    assert [c["path"] for c in calls if c["path"].endswith("/machines")] == ["/api/files/%s/machines" % SHA1] * 2
    assert result["rate_budget"]["calls"] == len(calls)


def test_what_alerts_touch_is_handed_on_only_in_its_documented_shape():
    from ansible_collections.secops.defender.plugins.module_utils._entities import alert_touches
    hostile = "{{ lookup('pipe', 'id') }}"
    rows = [{"found": True, "alert": {"evidence": [
        {"sha1": SHA1.upper()}, {"sha1": hostile}, {"ipAddress": "198.51.100.23"}, {"ipAddress": hostile},
        {"accountName": "alice"}, {"accountName": hostile}, {"accountName": "{x}"}]},
        "domains": ["c2.badcdn.example", hostile], "ips": [], "files": [], "user": None}]
    assert alert_touches(rows) == {"sha1s": [SHA1], "ips": ["198.51.100.23"], "domains": ["c2.badcdn.example"],
                                   "users": ["alice"]}
