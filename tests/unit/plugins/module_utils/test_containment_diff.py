"""--diff of isolation and app restriction through the real engine and emulator: the state before comes from the
engine's own state query (no extra call), check mode shows the prediction, a real run what its action reached."""

from ansible_collections.secops.defender.plugins.module_utils import _containment
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
WS1_NAME = "ws-fin-001.corp.example.com"
WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
WS2_NAME = "ws-fin-002.corp.example.com"


def isolate(client, isolation_type, check_mode, state="isolated", wait=True):
    spec, options = _containment.isolation(state, isolation_type, "diff test")
    wanted = "released" if state == "released" else "isolated (%s)" % isolation_type

    def diff(rows, states):
        return _containment.device_diff(rows, states, _containment.isolation_state, wanted, check_mode, "isolation")

    return run_action(client, spec, options, target_list(machines=[WS1_NAME, WS2]), diff=diff, single=False,
                      check_mode=check_mode, wait=wait, poll_interval=1)


def test_isolation_diff_check_mode_then_real_then_again(client, control, fast):
    ws2 = WS2
    control("DELETE", "/log")
    dry = isolate(client, "Full", True)
    assert dry["diff"]["before"] == {WS1_NAME: "released", ws2: "released"}
    assert dry["diff"]["after"] == {WS1_NAME: "isolated (Full)", ws2: "isolated (Full)"}
    assert dry["diff"]["after_header"] == "isolation asked for (check mode)"
    assert [c for c in control.api_calls() if c["method"] != "GET"] == []
    reads = len(control.api_calls("GET", "/api/machineactions"))

    real = isolate(client, "Full", False)
    assert real["diff"]["before"] == dry["diff"]["before"]
    assert real["diff"]["after"] == {WS1_NAME: "isolated (Full)", ws2: "isolated (Full)"}

    selective = isolate(client, "Selective", True)
    assert selective["diff"]["before"] == {WS1_NAME: "isolated (Full)", ws2: "isolated (Full)"}
    assert selective["diff"]["after"] == {WS1_NAME: "isolated (Selective)", ws2: "isolated (Selective)"}
    # the state query is the engine's own: a check-mode run with a diff reads actions as often as one without
    control("DELETE", "/log")
    spec, options = _containment.isolation("isolated", "Selective", "diff test")
    run_action(client, spec, options, target_list(machines=[WS1_NAME, WS2]), single=False, check_mode=True)
    assert len(control.api_calls("GET", "/api/machineactions")) == reads

    released = isolate(client, "Full", False, state="released", wait=False)
    assert released["diff"]["before"] == {WS1_NAME: "isolated (Full)", ws2: "isolated (Full)"}
    assert set(released["diff"]["after"].values()) <= {"released", "released, pending", "released, inprogress"}


def test_restriction_diff_leaves_out_a_device_that_failed_before_its_action(client, control, fast):
    spec, options = _containment.app_restriction("restricted", "diff test")

    def diff(rows, states):
        return _containment.device_diff(rows, states, _containment.restriction_state, "restricted", True,
                                        "app restriction")

    result = run_action(client, spec, options, target_list(machines=[WS1, "no-such-device.example.com"]),
                        diff=diff, single=False, check_mode=True, fail_on_device_error=False)
    assert result["diff"]["before"] == {WS1: "released"}
    assert result["diff"]["after"] == {WS1: "restricted"}


def test_state_words():
    assert _containment.isolation_state(None) == "released"
    assert _containment.isolation_state({"type": "Isolate", "scope": "Selective", "status": "Pending"}) == \
        "isolated (Selective), pending"
    assert _containment.isolation_state({"type": "Isolate", "status": "Succeeded"}) == "isolated"
    assert _containment.restriction_state({"type": "UnrestrictCodeExecution", "status": "Succeeded"}) == "released"
    assert _containment.restriction_state({"type": "RestrictCodeExecution", "status": "InProgress"}) == \
        "restricted, inprogress"
