"""The client against the documented rules the emulator now enforces (Microsoft Learn: api/get-live-response-result,
api/get-package-sas-uri, api/run-live-response), over real HTTPS."""

import datetime

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderForbiddenError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._containment import isolation
from ansible_collections.secops.defender.plugins.module_utils._machines import resolve_names, search, target_list
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
from ansible_collections.secops.defender.plugins.module_utils._odata import filter_properties
from ansible_collections.secops.defender.plugins.module_utils._selection import odata_filter

from .conftest import WS1


def _recent(hours=1):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_the_403_hint_of_a_result_link_names_the_read_permission(params, control, client):
    action = client.post("/api/machines/%s/runliveresponse" % WS1, {"Comment": "c", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]})
    control("POST", "/clock", {"advance": 60})
    control("POST", "/seed", {"apps": [{"client_id": "55555555-5555-4555-8555-555555555555",
                                        "client_secret": "lr-only", "roles": ["Machine.LiveResponse"]}]})
    live_only = build_client(dict(params, client_id="55555555-5555-4555-8555-555555555555",
                                  client_secret="lr-only", token_cache=False))
    with pytest.raises(DefenderForbiddenError) as info:
        live_only.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action["id"])
    assert "Machine.Read.All" in str(info.value) and "Machine.LiveResponse" not in info.value.message


@pytest.mark.parametrize("text, names", [
    ("healthStatus eq 'Active' and osPlatform eq 'Windows11'", ["healthStatus", "osPlatform"]),
    ("startswith(computerDnsName,'ws-') or riskScore in ('High','Medium')", ["computerDnsName", "riskScore"]),
    ("machineTags/any(tag: tag eq 'finance')", ["machineTags"]),
    ("lastSeen ge 2026-11-01T00:00:00Z and not (exposureLevel eq 'High')", ["lastSeen", "exposureLevel"]),
    ("computerDnsName eq 'and or lastIpAddress'", ["computerDnsName"]),
])
def test_filter_properties_are_read_from_the_users_filter(text, names):
    assert filter_properties(text) == names


@pytest.mark.parametrize("text", ["lastExternalIpAddress eq '203.0.113.10'", "agentVersion eq '1'",
                                  "osVersion eq '22H2'"])
def test_a_machine_filter_on_an_undocumented_property_is_refused_before_sending(client, control, text):
    control("DELETE", "/log")
    with pytest.raises(DefenderInputError) as info:
        search(client, odata_filter=text)
    assert "cannot filter devices on" in str(info.value) and "ODataError" in str(info.value)
    with pytest.raises(DefenderInputError):
        odata_filter({"filter": text})
    assert not control.log()


def test_a_documented_filter_goes_through_and_the_emulator_agrees(client):
    assert len(search(client, odata_filter="osPlatform eq 'Linux'")) == 1


@pytest.mark.parametrize("text", ["lastIpAddress eq '10.10.1.21'", "machineTags/any(tag: tag eq 'finance')",
                                  "id eq '%s'" % WS1])
def test_every_property_learn_lists_is_sent_and_answered(client, text):
    """Microsoft Learn's "List machines API" lists lastIpAddress, machineTags, id, version, deviceValue and
    aadDeviceId as filterable beside the rest; the client refused lastIpAddress before sending."""
    assert WS1 in [m["id"] for m in search(client, odata_filter=text)]


def test_an_empty_machine_list_is_none_not_an_error(client, control):
    assert search(client, odata_filter="computerDnsName eq 'nosuch.example.com'") == []
    assert resolve_names(client, ["nosuch"]) == {"nosuch": []}
    assert [e["status"] for e in control.api_calls("GET", "/api/machines")] == [404, 404]


def test_findbyip_is_validated_and_encoded(client, control):
    found = search(client, ip="10.10.1.21", timestamp=_recent())
    assert [m["id"] for m in found] == [WS1]
    call = control.api_calls("GET", "findbyip")[-1]
    assert "ip='10.10.1.21'" in call["path"] and "timestamp=" in call["path"]
    with pytest.raises(DefenderInputError) as info:
        search(client, ip="10.10.1.21", timestamp=_recent(hours=24 * 31))
    assert "last 30 days" in str(info.value)
    assert len(control.api_calls("GET", "findbyip")) == 1


@pytest.mark.parametrize("repeat_code", ["ActiveRequestAlreadyExists", "legacy"])
def test_a_pending_isolation_is_named_whichever_code_the_api_answers(client, control, repeat_code):
    control("POST", "/settings", {"repeat_code": repeat_code})
    control("POST", "/machines/%s/online" % WS1, {"online": False})
    first = client.post("/api/machines/%s/isolate" % WS1, {"Comment": "c", "IsolationType": "Selective"})
    spec, options = isolation("isolated", "Full", "again")
    with pytest.raises(DefenderActionError) as info:
        run_action(client, spec, options, target_list(WS1), wait=False, force=True)
    assert first["id"] in str(info.value) and "already has action" in str(info.value)
    assert info.value.result["error"]["status"] == 400


def test_the_alternative_scope_works_end_to_end(params):
    client = build_client(dict(params, scope="https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
                               token_cache=False))
    assert client.get("/api/machines")["value"]


def test_the_live_response_wait_default_fits_a_30_minute_command(client, control, fast, tmp_path):
    from ansible_collections.secops.defender.plugins.modules.defender_live_response import WAIT_TIMEOUT
    from ansible_collections.secops.defender.plugins.module_utils._live_response import live_response
    control("POST", "/settings", {"runscript_timeout_seconds": 1800})   # Learn live-response#limitations
    control("POST", "/seed", {"scripts": {"long.ps1": {"duration_seconds": 1750, "output": "done"}},
                              "library": [{"fileName": "long.ps1", "content": "Start-Sleep 1750"}]})
    result = live_response(client, [{"type": "RunScript", "script_name": "long.ps1"}], "long", target_list(WS1),
                           wait_timeout=WAIT_TIMEOUT, poll_interval=60)
    assert result["status"] == "Succeeded" and result["commands"][0]["script_output"] == "done"
