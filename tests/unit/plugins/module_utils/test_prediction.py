"""Check mode's predictions from a device's record: the platform gates and the offline warning, alone and through
the fleet engine against the emulator (which refuses the same actions on the same platforms for real)."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _quarantine, _specs
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._prediction import offline_warning, refusal

from .conftest import SHA1, WS1

LINUX = "3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
OFFLINE = "4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


def machine(platform, version=None, health="Active"):
    return {"id": "a" * 40, "computerDnsName": "dev.example.com", "osPlatform": platform, "version": version,
            "healthStatus": health}


@pytest.mark.parametrize("spec, options, platform, version, code", [
    (_specs.QUARANTINE, {}, "Linux", None, "OsPlatformNotSupported"),
    (_specs.QUARANTINE, {}, "macOS", None, "OsPlatformNotSupported"),
    (_specs.QUARANTINE, {}, "Windows10", "1607", "ClientVersionNotSupported"),
    (_specs.QUARANTINE, {}, "Windows10", "1703", None),
    (_specs.QUARANTINE, {}, "Windows10", "22H2", None),
    (_specs.QUARANTINE, {}, "Windows11", None, None),
    (_specs.ISOLATE, {"isolation_type": "Full"}, "Linux", None, None),
    (_specs.ISOLATE, {"isolation_type": "Selective"}, "Linux", None, "OsPlatformNotSupported"),
    (_specs.ISOLATE, {"isolation_type": "Selective"}, "Windows10", "1703", "ClientVersionNotSupported"),
    (_specs.ISOLATE, {"isolation_type": "Full"}, "WindowsServer2022", None, "OsPlatformNotSupported"),
    (_specs.RESTRICT, {}, "Linux", None, "OsPlatformNotSupported"),
    (_specs.AV_SCAN, {"scan_type": "Quick"}, "macOS", None, "OsPlatformNotSupported"),
    (_specs.OFFBOARD, {}, "Linux", None, "OsPlatformNotSupported"),
    (_specs.OFFBOARD, {}, "WindowsServer2019", None, None),
    (_specs.LIVE_RESPONSE, {}, "Linux", None, None),
    (_specs.QUARANTINE, {}, None, None, None),   # a record without a platform: never guessed at
])
def test_refusal_follows_the_platform_gates(spec, options, platform, version, code):
    predicted = refusal(spec, options, machine(platform, version))
    assert (predicted.code if predicted else None) == code
    if predicted:
        assert "predicted in check mode" in str(predicted) and "nothing was sent" in str(predicted)
        assert predicted.to_dict()["message"] in str(predicted)


def test_refusal_speaks_the_apis_words():
    predicted = refusal(_specs.QUARANTINE, {}, machine("Linux"))
    assert predicted.to_dict()["message"] == ("StopAndQuarantineFile is not supported on Linux; it needs Windows 10 "
                                              "version 1703 or later, or Windows 11")
    assert "runs on Windows 10 version 1703 or later, and Windows 11 only" in str(predicted)


def test_offline_warning_names_the_device_and_the_wait():
    assert offline_warning(_specs.QUARANTINE, machine("Windows11"), True) is None
    warning = offline_warning(_specs.QUARANTINE, dict(machine("Windows11", health="Inactive"),
                                                      lastSeen="2026-11-30T08:00:00Z"), False)
    assert warning.startswith("dev.example.com is Inactive (last seen 2026-11-30T08:00:00Z): its StopAndQuarantineFile "
                              "queues in Defender until the device is back online")
    assert "3 days" in warning and "wait_timeout" in warning


def test_check_mode_predicts_the_refusal_the_real_run_gets(client, control):
    options = _quarantine.options(SHA1, "predict")
    dry = run_action(client, _quarantine.SPEC, options, target_list(machines=[WS1, LINUX]), single=False,
                     check_mode=True, fail_on_device_error=False, wait=False)
    assert [r["failed"] for r in dry["results"]] == [False, True]
    assert control.api_calls("POST") == []
    real = run_action(client, _quarantine.SPEC, options, target_list(machines=[WS1, LINUX]), single=False,
                      fail_on_device_error=False, wait=False)
    predicted, refused = dry["results"][1]["error"], real["results"][1]["error"]
    assert (predicted["code"], predicted["message"]) == (refused["code"], refused["message"])
    assert dry["summary"]["would_submit"] == 1 and dry["summary"]["failed"] == 1


def test_an_offline_device_is_warned_about_at_once(client, control):
    dry = run_action(client, _quarantine.SPEC, _quarantine.options(SHA1, "offline"),
                     target_list(machines=[WS1, OFFLINE]), single=False, check_mode=True, wait=False)
    warnings = [w for w in client.warnings if "lt-sales-007" in w]
    assert len(warnings) == 1 and "is Inactive" in warnings[0] and "would queue" in warnings[0]
    assert dry["summary"]["would_submit"] == 2


def test_a_long_wait_notes_its_progress_once_a_minute_by_device_name(client, control, fast):
    """An offline device's action stays Pending: the wait (virtual clock) notes, each minute, how many are open
    and which waited longest, by name; the device that finished is no longer named."""
    result = run_action(client, _quarantine.SPEC, _quarantine.options(SHA1, "progress"),
                        target_list(machines=[WS1, OFFLINE]), single=False, fail_on_device_error=False,
                        wait=True, wait_timeout=200, poll_interval=10)
    notes = client.progress
    assert 2 <= len(notes) <= 4, notes
    assert all(n.startswith("After ") and "1 of 2 action(s) still open (1 Pending)" in n for n in notes), notes
    assert all("lt-sales-007.corp.example.com (StopAndQuarantineFile Pending since " in n for n in notes)
    assert not any("ws-fin-001" in n for n in notes)
    assert result["results"][1]["status"] == "Pending"


def test_a_short_wait_notes_nothing(client, control, fast):
    run_action(client, _quarantine.SPEC, _quarantine.options(SHA1, "short"), target_list(machines=[WS1]),
               single=False, wait=True, wait_timeout=200, poll_interval=10)
    assert client.progress == []


def test_check_mode_predicts_the_403_of_a_token_without_the_permission(params, control):
    from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
    from .conftest import READER
    reader = build_client(dict(params, client_id=READER[0], client_secret=READER[1]))
    options = _quarantine.options(SHA1, "forbidden")
    dry = run_action(reader, _quarantine.SPEC, options, target_list(machines=[WS1]), single=False, check_mode=True,
                     fail_on_device_error=False, wait=False)
    real = run_action(reader, _quarantine.SPEC, options, target_list(machines=[WS1]), single=False,
                      fail_on_device_error=False, wait=False)
    predicted, refused = dry["results"][0], real["results"][0]
    assert predicted["error"]["code"] == refused["error"]["code"] == "Forbidden"
    assert predicted["error"]["status"] == refused["error"]["status"] == 403
    assert "no Machine.StopAndQuarantine role (its roles: Machine.Read.All)" in predicted["msg"]
    assert "Machine.StopAndQuarantine" in refused["msg"]
    token = reader.tokens.token()
    assert token not in str(dry)


def test_token_roles_reads_only_a_jwt_roles_claim():
    from ansible_collections.secops.defender.plugins.module_utils._prediction import token_roles
    import base64
    import json

    def jwt(claims):
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return "eyJhbGciOiJIUzI1NiJ9.%s.sig" % body
    assert token_roles(jwt({"roles": ["Machine.Isolate"]})) == ["Machine.Isolate"]
    assert token_roles(jwt({"scp": "user_impersonation"})) is None
    assert token_roles("not-a-jwt") is None and token_roles(None) is None
