"""defender_alert's service (_alerts.py) against the emulator: desired state for alerts, proved from the emulator's
state and request log. Check mode sends nothing, a real run sends only what differs, a rerun sends nothing, a
thousand alerts go through batchUpdate in calls of at most 500 ids, a bad pair is refused before any request, an
unknown alert fails its own row, and a 403 names the permission."""

import json

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _alerts
from ansible_collections.secops.defender.plugins.module_utils._budget import DEFAULT_LIMITS, rate_class
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderInputError

READER = ("22222222-2222-4222-8222-222222222222", "emulator-secret-reader")
WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"


def new_alert(control, **spec):
    body = {"title": "Dropper", "severity": "High", "machineId": WS1}
    body.update(spec)
    return control("POST", "/alerts", body)


def state_of(control, alert_id):
    return [a for a in control("GET", "/state")["alerts"] if a["id"] == alert_id][0]


def writes(control):
    return [e for e in control.api_calls() if e["method"] in ("PATCH", "POST")]


def run(client, ids, check_mode=False, single=None, fail=True, diff=False, **params):
    wanted, comment = _alerts.wanted_values(params)
    rows = _alerts.update_alerts(client, _alerts.check_ids(alert_ids=ids), wanted, comment, check_mode)
    return _alerts.alerts_result(rows, len(ids) == 1 if single is None else single, fail, client=client, diff=diff)


RESOLVE = dict(status="Resolved", classification="TruePositive", determination="Malware", comment="INC-1: remediated")


def test_check_mode_then_real_then_rerun(client, control):
    alert = new_alert(control)
    control("DELETE", "/log")
    checked = run(client, [alert["id"]], check_mode=True, diff=True, **RESOLVE)
    assert checked["changed"] and checked["summary"] == {"alerts": 1, "updated": 1, "unchanged": 0, "failed": 0}
    assert checked["results"][0]["changes"] == ["status", "classification", "determination", "comment"]
    assert checked["diff"]["before"]["status"] == "New" and checked["diff"]["after"]["status"] == "Resolved"
    assert checked["alert"]["status"] == "Resolved" and checked["alert_id"] == alert["id"]
    assert writes(control) == []                                   # check mode sent nothing
    assert state_of(control, alert["id"])["status"] == "New"

    real = run(client, [alert["id"]], **RESOLVE)
    assert real["changed"] and real["results"][0]["outcome"] == "updated"
    sent = writes(control)
    assert [(e["method"], e["path"]) for e in sent] == [("PATCH", "/api/alerts/%s" % alert["id"])]
    assert sent[0]["body"] == {"status": "Resolved", "classification": "TruePositive", "determination": "Malware",
                               "comment": "INC-1: remediated"}
    now = state_of(control, alert["id"])
    assert (now["status"], now["classification"], now["determination"]) == ("Resolved", "TruePositive", "Malware")
    assert [c["comment"] for c in now["comments"]] == ["INC-1: remediated"]
    assert real["alert"]["status"] == "Resolved"

    control("DELETE", "/log")
    again = run(client, [alert["id"]], **RESOLVE)
    assert not again["changed"] and again["results"][0]["outcome"] == "unchanged"
    assert again["results"][0]["changes"] == []
    assert writes(control) == []                                   # a rerun sends nothing
    assert len(state_of(control, alert["id"])["comments"]) == 1   # and adds no second comment


def test_only_the_fields_that_differ_are_sent(client, control):
    alert = new_alert(control, status="InProgress", assignedTo="secop2@contoso.com")
    control("DELETE", "/log")
    result = run(client, [alert["id"]], status="InProgress", assigned_to="secop3@contoso.com")
    assert result["results"][0]["changes"] == ["assignedTo"]
    assert writes(control)[0]["body"] == {"assignedTo": "secop3@contoso.com"}


def test_1200_alerts_resolved_in_one_task_go_in_batches_of_500(client, control):
    ids = ["da%020d_%d" % (n, n) for n in range(1200)]
    control("POST", "/seed", {"alerts": [{"id": i, "title": "Noise", "severity": "Low", "machineId": WS1}
                                         for i in ids]})
    control("DELETE", "/log")
    result = run(client, ids, status="Resolved", comment="bulk close")
    assert result["summary"] == {"alerts": 1200, "updated": 1200, "unchanged": 0, "failed": 0}
    calls = control.api_calls()
    batches = [e for e in calls if e["method"] == "POST"]
    assert [e["path"] for e in batches] == ["/api/alerts/batchUpdate"] * 3
    assert [len(e["body"]["alertIds"]) for e in batches] == [500, 500, 200]
    assert sorted(i for e in batches for i in e["body"]["alertIds"]) == sorted(ids)
    assert all(e["body"]["status"] == "Resolved" and e["body"]["comment"] == "bulk close" for e in batches)
    assert not [e for e in calls if e["status"] == 429]
    assert not [e for e in calls if e["method"] == "PATCH"]
    # 20 ids a query: 60 queries. Under load a read can outlast the client's timeout and be sent again (the same
    # query, as a GET may be), so what must hold is the number of distinct queries, not of reads.
    queries = set(json.dumps(e.get("query"), sort_keys=True) for e in calls if e["method"] == "GET")
    assert len(queries) == 60, sorted(queries)[:3]
    states = control("GET", "/state")["alerts"]
    assert all(a["status"] == "Resolved" for a in states if a["id"] in set(ids))


def test_alerts_whose_changes_differ_get_a_patch_each(client, control):
    same = [new_alert(control)["id"] for dummy in range(3)]
    own = new_alert(control, status="Resolved")["id"]
    done = new_alert(control, status="Resolved", assignedTo="lead@contoso.com")["id"]
    control("DELETE", "/log")
    result = run(client, same + [own, done], status="Resolved", assigned_to="lead@contoso.com")
    sent = writes(control)
    assert [(e["method"], e["path"]) for e in sent] == [("POST", "/api/alerts/batchUpdate"),
                                                        ("PATCH", "/api/alerts/%s" % own)]
    assert sorted(sent[0]["body"]["alertIds"]) == sorted(same)
    assert sent[1]["body"] == {"assignedTo": "lead@contoso.com"}
    assert result["summary"] == {"alerts": 5, "updated": 4, "unchanged": 1, "failed": 0}


def test_an_invalid_pair_is_refused_before_any_request(client, control):
    control("DELETE", "/log")
    with pytest.raises(DefenderInputError) as caught:
        _alerts.wanted_values({"classification": "FalsePositive", "determination": "Malware"})
    message = str(caught.value)
    assert "FalsePositive" in message and "Malware" in message
    assert "Clean, InsufficientData, Other" in message
    assert caught.value.code == "InvalidPair"
    assert control.log() == []


def test_a_determination_the_alerts_classification_does_not_take_fails_its_row_unsent(client, control):
    alert = new_alert(control, classification="FalsePositive")
    bare = new_alert(control)
    control("DELETE", "/log")
    with pytest.raises(DefenderActionError) as caught:
        run(client, [alert["id"], bare["id"]], determination="Phishing")
    result = caught.value.result
    assert result["failed_alerts"] == [alert["id"], bare["id"]]
    assert "FalsePositive / determination Phishing" in result["results"][0]["msg"]
    assert "needs a classification" in result["results"][1]["msg"]
    assert result["error"]["code"] == "InvalidPair"              # both failed for the same reason
    assert writes(control) == []


def test_an_unknown_alert_fails_its_row_and_the_others_are_updated(client, control):
    alert = new_alert(control)
    result = run(client, [alert["id"], "da000_unknown"], fail=False, status="InProgress")
    assert result["failed_alerts"] == ["da000_unknown"]
    row = result["results"][1]
    assert row["outcome"] == "failed" and "No alert with id da000_unknown" in row["msg"]
    assert row["error"]["code"] == "AlertNotFound"
    assert result["summary"] == {"alerts": 2, "updated": 1, "unchanged": 0, "failed": 1}
    assert state_of(control, alert["id"])["status"] == "InProgress"
    with pytest.raises(DefenderActionError) as caught:
        run(client, ["da000_unknown"], status="InProgress")
    assert "No alert with id da000_unknown" in str(caught.value)


def test_a_403_names_the_permission(params, control):
    alert = new_alert(control)
    reader = build_client(dict(params, client_id=READER[0], client_secret=READER[1]))
    with pytest.raises(DefenderActionError) as caught:
        run(reader, [alert["id"]], status="Resolved")
    assert "Alert.ReadWrite.All" in str(caught.value)
    assert caught.value.result["error"]["status"] == 403


def test_a_new_classification_clears_a_determination_it_does_not_take(client, control):
    alert = new_alert(control, classification="TruePositive", determination="Malware")
    result = run(client, [alert["id"]], classification="FalsePositive")
    assert result["results"][0]["after"]["determination"] is None
    now = state_of(control, alert["id"])
    assert (now["classification"], now["determination"]) == ("FalsePositive", None)


def test_the_batch_update_rate_class():
    assert rate_class("/api/alerts/batchUpdate") == "alertbatchupdate"
    assert rate_class("/API/Alerts/BATCHUPDATE/") == "alertbatchupdate"
    assert rate_class("/api/alerts/da123", "PATCH") == "alertupdate"
    assert rate_class("/api/alerts/da123", "GET") == "getalert"
    assert DEFAULT_LIMITS["alertbatchupdate"] == [[10, 60], [500, 3600]]


@pytest.mark.parametrize("params, words", [
    ({}, "Nothing to set"),
    ({"comment": "  "}, "comment must not be empty"),
    ({"assigned_to": ""}, "assigned_to must not be empty"),
    ({"classification": "TruePositive", "determination": "Clean"}, "TruePositive takes MultiStagedAttack"),
    ({"classification": "InformationalExpectedActivity", "determination": "Phishing"}, "SecurityTesting"),
])
def test_bad_values_are_refused(params, words):
    with pytest.raises(DefenderInputError) as caught:
        _alerts.wanted_values(params)
    assert words in str(caught.value)


def test_ids_are_checked_and_deduplicated():
    assert _alerts.check_ids(alert_ids=["a", "a", "b"]) == ["a", "b"]
    with pytest.raises(DefenderInputError):
        _alerts.check_ids(alert_ids=[])
    with pytest.raises(DefenderInputError):
        _alerts.check_ids(alert_ids=["a", " "])
