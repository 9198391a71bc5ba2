"""KQL string literals and the shipped hunts: every value becomes one literal that reads back as itself (checked
with the emulator's KQL tokenizer, which follows Learn's string-literal rules), each parameter is checked for its
type, and every hunt compiles against the advanced hunting schema and returns DeviceId and DeviceName."""

import time

import pytest

from mde_emulator import kql
from mde_emulator.events import TABLES

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._hunts import HUNTS, hunt_query, kql_string

HOSTILE = ["x' or 1==1 //", 'x" or 1==1 //', "a\nb | take 1", "| take 1", "\\", "\\'", "'", "''", "\t", "", "'; ",
           "@'x'", "h'x'", "```", "// comment", "a\\nb", "\u00e9\u4e2d\U0001f600", "{{ 7*191 }}", "x' | take 1 //\n"]
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
SHA256 = "3f1c8a7e5d4b2a190817f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a291"
VALID = {
    "devices_with_file": {"sha1": SHA1},
    "processes_from_file": {"file_name": "svc-update.exe"},
    "devices_contacted_ip": {"ip": "198.51.100.23"},
    "devices_contacted_domain": {"domain": "c2.badcdn.example"},
    "devices_contacted_url": {"url": "https://update.badcdn.example/svc-update.exe"},
    "user_logons": {"user": "alice"},
}


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_is_one_string_token_that_reads_back_as_the_value(text):
    tokens = kql.Tokenizer(kql_string(text)).tokens()
    assert [t.kind for t in tokens] == ["string", "eof"]
    assert tokens[0].value == text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_in_a_query_compares_as_one_value(text):
    query = "DeviceProcessEvents | where FileName == %s | project FileName" % kql_string(text)
    plan = kql.compile_query(query, dict(TABLES), time.time())
    rows = [{"FileName": text}, {"FileName": "other"}, {"FileName": "x"}]
    assert plan.run({"DeviceProcessEvents": rows}) == [{"FileName": text}]


@pytest.mark.parametrize("text", ["a\rb", "a\x00b", "a\u2028b", "a\u200bb", "\x1b[2J"])
def test_control_characters_without_an_escape_are_refused(text):
    with pytest.raises(DefenderInputError, match="control character"):
        kql_string(text)


def test_quote_matches_the_emulators_reference():
    for text in HOSTILE:
        assert kql_string(text) == kql.quote(text)


@pytest.mark.parametrize("name", sorted(HUNTS))
def test_every_hunt_compiles_and_returns_the_device(name):
    query = hunt_query(name, dict(VALID[name], lookback_days=30))
    plan = kql.compile_query(query, dict(TABLES), time.time())
    columns = [c for c, _t in plan.schema]
    assert "DeviceId" in columns and "DeviceName" in columns
    assert "ago(30d)" in query


def test_every_hunt_has_a_valid_example_here_and_in_the_module_docs():
    assert sorted(VALID) == sorted(HUNTS)
    from ansible_collections.secops.defender.plugins.modules import defender_advanced_hunting as module
    import yaml
    choices = yaml.safe_load(module.DOCUMENTATION)["options"]["hunt"]["choices"]
    assert choices == sorted(HUNTS)
    for name in HUNTS:
        assert "V(%s) - " % name in module.DOCUMENTATION


@pytest.mark.parametrize("name,parameters,message", [
    ("devices_with_file", {"sha1": SHA1[:-1]}, "SHA-1, 40 hexadecimal"),
    ("devices_with_file", {"sha1": SHA1[:-1] + "g"}, "SHA-1, 40 hexadecimal"),
    ("devices_with_file", {"sha256": SHA1}, "SHA-256, 64 hexadecimal"),
    ("devices_with_file", {}, "needs one of sha1, sha256"),
    ("devices_with_file", {"sha1": SHA1, "lookback_days": 31}, "from 1 to 30"),
    ("devices_with_file", {"sha1": SHA1, "lookback_days": 0}, "from 1 to 30"),
    ("devices_with_file", {"sha1": SHA1, "lookback_days": "7d"}, "whole number of days"),
    ("devices_with_file", {"sha1": [SHA1] * 2 + ["x"]}, "SHA-1"),
    ("devices_with_file", {"sha1": {"a": 1}}, "must be text"),
    ("devices_contacted_ip", {"ip": "198.51.100.0/24"}, "no CIDR range"),
    ("devices_contacted_ip", {"ip": "198.51.100.23:443"}, "IP address"),
    ("devices_contacted_ip", {}, "needs ip"),
    ("devices_contacted_domain", {"domain": "https://c2.badcdn.example/"}, "DNS domain"),
    ("devices_contacted_domain", {"domain": "c2.badcdn.example' or 1==1 //"}, "DNS domain"),
    ("devices_contacted_domain", {"domain": "localhost"}, "DNS domain"),
    ("devices_contacted_url", {"url": "ftp://x.example/a"}, "http or https"),
    ("devices_contacted_url", {"url": "https://x.example/a b"}, "URL"),
    ("devices_contacted_url", {"url": "https://x.example/\n| take 1"}, "URL"),
    ("user_logons", {"user": "x' or 1==1 //"}, "account"),
    ("user_logons", {"user": "alice | take 1"}, "account"),
    ("user_logons", {"user": "bad domain\\alice"}, "NetBIOS or DNS name"),
    ("user_logons", {"user": "alice", "include_failed": "maybe"}, "true or false"),
    ("user_logons", {"user": "alice", "host": "x"}, "does not take host"),
    ("processes_from_file", {"file_name": "C:\\Windows\\x.exe"}, "no folder"),
    ("processes_from_file", {"file_name": "x | take 1"}, "file name"),
    ("no_such_hunt", {}, "no shipped hunt named"),
])
def test_bad_parameters_are_refused_with_what_is_expected(name, parameters, message):
    with pytest.raises(DefenderInputError, match=message.replace("(", r"\(").replace("|", r"\|")):
        hunt_query(name, parameters)


def test_values_are_normalised_and_deduplicated():
    query = hunt_query("devices_with_file", {"sha1": [SHA1.upper(), SHA1], "sha256": SHA256})
    assert "SHA1 in ('%s')" % SHA1 in query and "SHA256 in ('%s')" % SHA256 in query
    assert "2001:db8::1" in hunt_query("devices_contacted_ip", {"ip": "2001:DB8:0::1"})
    query = hunt_query("user_logons", {"user": ["CORP\\alice", "s-1-5-18"], "include_failed": True})
    assert "(AccountName =~ 'alice' and AccountDomain =~ 'CORP')" in query and "AccountSid =~ 'S-1-5-18'" in query
    assert "LogonSuccess" not in query
    assert "ActionType == 'LogonSuccess'" in hunt_query("user_logons", {"user": "alice"})
    assert "ago(7d)" in hunt_query("user_logons", {"user": "alice"})


def test_a_hostile_but_valid_value_stays_one_literal():
    name = "x' or 1==1 or 'a.exe"
    query = hunt_query("processes_from_file", {"file_name": name})
    plan = kql.compile_query(query, dict(TABLES), time.time())
    now = time.time()
    rows = [dict((c, "" if t == "string" else None) for c, t in TABLES["DeviceProcessEvents"]) for dummy in range(3)]
    for row, file_name in zip(rows, [name, "a.exe", "x"]):
        row.update(FileName=file_name, Timestamp=now - 60, DeviceId="d", DeviceName="n")
    assert [r["FileName"] for r in plan.run({"DeviceProcessEvents": rows})] == [name]
