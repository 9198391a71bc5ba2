"""Indicators: type inference, input checks, what counts as a difference, and calls per batch (real client,
emulator)."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._indicator_info import list_indicators
from ansible_collections.secops.defender.plugins.module_utils._indicator_scope import Scope, purge_scope, scope_from
from ansible_collections.secops.defender.plugins.module_utils._indicators import (
    IndicatorRow,
    apply,
    check,
    delete,
    diff,
    differences,
    infer_type,
    read_current,
)

from .conftest import RESPONDER

BASE = {"action": "Block", "title": "t", "description": "d"}


@pytest.mark.parametrize("value,kind", [
    ("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "FileSha256"),
    ("d41d8cd98f00b204e9800998ecf8427e", "FileMd5"),
    ("8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f", None),       # SHA-1 or certificate thumbprint
    ("198.51.100.7", "IpAddress"),
    ("2001:db8::1", "IpAddress"),
    ("https://evil.example.com/x", "Url"),
    ("evil.example.com", "DomainName"),
    ("not a value", None),
])
def test_infer_type(value, kind):
    assert infer_type(value) == kind


@pytest.mark.parametrize("item,words", [
    (dict(BASE, value="10.0.0.0/8"), "CIDR"),
    (dict(BASE, value="8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"), "CertificateThumbprint"),
    (dict(BASE, value="abc", type="FileSha1"), "not a FileSha1"),
    (dict(BASE, value="evil.example.com", action="Audit"), "generate_alert"),
    ({"value": "evil.example.com", "action": "Block"}, "title is required"),
])
def test_bad_input_is_refused_before_anything_is_sent(item, words):
    with pytest.raises(DefenderInputError) as caught:
        check(item)
    assert words in str(caught.value)


def test_hashes_are_sent_in_lower_case_and_absent_needs_no_action():
    assert check(dict(BASE, value="8A5F6B6E3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F", type="FileSha1"))["value"] == \
        "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
    assert check({"value": "evil.example.com", "state": "absent"})["type"] == "DomainName"


def test_only_options_given_are_compared():
    current = {"action": "Block", "title": "t", "description": "d", "severity": "High",
               "expirationTime": "2026-12-31T00:00:00.000Z", "rbacGroupNames": ["b", "a"]}
    assert differences(dict(BASE), current) == []
    assert differences(dict(BASE, expiration="2026-12-31T00:00:00Z", rbac_group_names=["a", "b"]), current) == []
    assert differences(dict(BASE, severity="Low", action="Alert"), current) == ["action", "severity"]


def test_many_are_read_once_and_imported_in_batches_of_500(client, control):
    items = [check(dict(BASE, value="%064x" % i)) for i in range(1200)]
    rows = apply(client, items)
    assert [r.outcome for r in rows] == ["created"] * 1200 and not any(r.error for r in rows)
    calls = control.api_calls()
    assert [(c["method"], c["path"]) for c in calls] == [("GET", "/api/indicators")] + \
        [("POST", "/api/indicators/import")] * 3
    again = apply(client, items)
    assert [r.outcome for r in again] == ["unchanged"] * 1200
    assert len(control.api_calls("POST")) == 3


def test_application_is_set_on_creation_only_and_a_rerun_changes_nothing(client, control):
    """Learn: application "only works for new indicators". A different value on an existing indicator is kept by
    the API, so it is not a change (or the task would report "updated" on every run, for ever), but it is said."""
    first = apply(client, [check(dict(BASE, value="write-once.example.com", application="Edge"))])
    assert [r.outcome for r in first] == ["created"]
    for _run in range(2):
        control("DELETE", "/log")
        rows = apply(client, [check(dict(BASE, value="write-once.example.com", application="Outlook"))])
        assert [(r.outcome, r.changes, r.kept) for r in rows] == [("unchanged", [], ["application"])]
        assert "keeps its application 'Edge'" in rows[0].warning()
        assert not control.api_calls("POST"), "nothing is sent for a create-only difference"
    stored = [i for i in control("GET", "/state")["indicators"] if i["indicatorValue"] == "write-once.example.com"]
    assert [i["application"] for i in stored] == ["Edge"]
    # another field still updates, and the create-only one is still only reported
    rows = apply(client, [check(dict(BASE, value="write-once.example.com", application="Outlook", title="t2"))])
    assert [(r.outcome, r.changes, r.kept) for r in rows] == [("updated", ["title"], ["application"])]


def test_an_expiration_that_has_passed_is_written_with_a_warning_and_a_rerun_says_nothing(client, control):
    """Learn does not say that the API refuses a past expirationTime, and in a repository of desired state the
    date passes on its own: so it is never refused, but the run that writes it says so."""
    past = dict(BASE, value="expired.example.com", expiration="2020-01-01T00:00:00Z")
    dry = apply(client, [check(past)], check_mode=True)
    assert [r.outcome for r in dry] == ["created"] and "would be created with an expiration that has passed" in \
        dry[0].warning()
    assert not control.api_calls("POST")
    real = apply(client, [check(past)])
    assert "is created with an expiration that has passed (2020-01-01T00:00:00Z)" in real[0].warning()
    stored = [i for i in control("GET", "/state")["indicators"] if i["indicatorValue"] == "expired.example.com"]
    assert [i["expirationTime"][:19] for i in stored] == ["2020-01-01T00:00:00"]
    again = apply(client, [check(past)])
    assert [r.outcome for r in again] == ["unchanged"] and again[0].warning() is None
    later = apply(client, [check(dict(past, expiration="2099-01-01T00:00:00Z"))])
    assert [r.changes for r in later] == [["expiration"]] and later[0].warning() is None
    back = apply(client, [check(past)])
    assert "is updated with an expiration that has passed" in back[0].warning()


@pytest.mark.parametrize("expiration", ["tomorrow", "2027-12-31", "31/12/2027", "2027-13-01T00:00:00Z", ""])
def test_an_expiration_that_is_not_an_iso_utc_time_is_refused_before_sending(expiration):
    with pytest.raises(DefenderInputError) as caught:
        check(dict(BASE, value="when.example.com", expiration=expiration))
    assert "expiration" in str(caught.value) and "2027-12-31T00:00:00Z" in str(caught.value)


def titled(prefix, count, start=0):
    return [check(dict(BASE, value="%040x" % (0xfeed0000 + start + i), type="FileSha1", title=prefix + str(i)))
            for i in range(count)]


def in_state(control):
    return control("GET", "/state")["indicators"]


def test_a_purge_deletes_only_its_scope_in_batches_of_500_and_check_mode_lists_it_first(client, control):
    apply(client, titled("IaC: ", 1100) + titled("theirs ", 3, start=5000))
    scope = Scope(title_prefix="IaC: ")
    keep = titled("IaC: ", 2)
    control("DELETE", "/log")
    planned = apply(client, keep, check_mode=True, scope=scope)
    assert control.api_calls("POST") == [] and control.api_calls("DELETE") == []
    assert len([r for r in planned if r.purged and r.outcome == "deleted"]) == 1098
    shown = diff(planned)
    assert len(shown["before"]) == 1098 and shown["after"] == {}
    assert all(v["title"].startswith("IaC: ") for v in shown["before"].values())
    rows = apply(client, keep, scope=scope)
    assert not any(r.failed for r in rows)
    posts = control.api_calls("POST")
    assert [p["path"] for p in posts] == ["/api/indicators/BatchDelete"] * 3    # 500 + 500 + 98
    assert [len(p["body"]["IndicatorIds"]) for p in posts] == [500, 500, 98]
    titles = sorted(e["title"] for e in in_state(control))
    assert titles == ["IaC: 0", "IaC: 1"] + sorted(t for t in titles if t.startswith("theirs")) and len(titles) == 5
    control("DELETE", "/log")
    again = apply(client, keep, scope=scope)
    assert [r.outcome for r in again] == ["unchanged", "unchanged"] and control.api_calls("POST") == []


def test_created_by_this_app_spares_indicators_of_others(client, control):
    control("POST", "/seed", {"indicators": [dict(indicatorValue="seeded.example.com", indicatorType="DomainName",
                                                  **dict((k, v) for k, v in [("action", "Block"), ("title", "t"),
                                                                             ("description", "d")]))]})
    apply(client, [check(dict(BASE, value="mine-%d.example.com" % i)) for i in range(3)])
    rows = apply(client, [], scope=scope_from({"created_by_this_app": True}, RESPONDER[0]))
    assert sorted(r.item["value"] for r in rows) == ["mine-%d.example.com" % i for i in range(3)]
    assert [e["indicatorValue"] for e in in_state(control) if "seeded" in e["indicatorValue"]] == [
        "seeded.example.com"]


@pytest.mark.parametrize("partial", [False, True])
def test_a_batch_with_an_id_gone_is_read_again_and_the_rest_deleted(client, control, partial):
    """Learn gives BatchDelete no per-item result: 404 when any id is not found, whether or not the others went."""
    control("POST", "/settings", {"batchdelete_partial": partial})
    apply(client, titled("gone ", 3))
    found, dummy = read_current(client, [], everything=True)
    rows = [IndicatorRow({"value": e["indicatorValue"], "type": e["indicatorType"], "state": "absent"}, e)
            for e in found if e["title"].startswith("gone ")]
    rows.append(IndicatorRow({"value": "x", "type": "FileSha1", "state": "absent"}, {"id": "999999"}))
    control("DELETE", "/log")
    delete(client, rows)
    assert not any(r.failed for r in rows)
    assert [(c["method"], c["path"]) for c in control.api_calls()] == [
        ("POST", "/api/indicators/BatchDelete"), ("GET", "/api/indicators")] + (
        [] if partial else [("POST", "/api/indicators/BatchDelete")])
    assert not [e for e in in_state(control) if e["title"].startswith("gone ")]


def test_a_forbidden_batch_is_deleted_one_by_one_so_the_refused_one_is_named(client, control):
    """The emulator has no device-group exposure, so the 403 Learn documents is injected (a fault at the HTTP
    boundary); the rest of the path is real."""
    apply(client, titled("group ", 3))
    control("POST", "/faults", {"kind": "status", "status": 403, "path": "BatchDelete$", "count": 1})
    control("POST", "/faults", {"kind": "status", "status": 403, "method": "DELETE", "path": "/api/indicators/",
                                "count": 1})
    control("DELETE", "/log")
    rows = apply(client, [], scope=Scope(title_prefix="group "))
    assert [r.failed for r in rows] == [True, False, False]
    assert [c["method"] for c in control.api_calls() if c["method"] != "GET"] == ["POST", "DELETE", "DELETE",
                                                                                  "DELETE"]
    assert len([e for e in in_state(control) if e["title"].startswith("group ")]) == 1


def test_the_diff_shows_what_changes(client, control):
    apply(client, [check(dict(BASE, value="diff.example.com"))])
    rows = apply(client, [check(dict(BASE, value="diff.example.com", action="Alert")),
                          check(dict(BASE, value="new.example.com"))], check_mode=True)
    assert diff(rows) == {"before": {"diff.example.com (DomainName)": {"action": "Block"}},
                          "after": {"diff.example.com (DomainName)": {"action": "Alert"},
                                    "new.example.com (DomainName)": dict(BASE, value="new.example.com",
                                                                         type="DomainName")}}


@pytest.mark.parametrize("purge,options,client_id,many,words", [
    (True, None, None, True, "refused before anything was sent"),
    (True, {"title_prefix": " "}, None, True, "empty"),
    (True, {"created_by_this_app": True}, None, True, "client_id"),
    (True, {"title_prefix": "IaC"}, None, False, "needs the whole list"),
    (False, {"title_prefix": "IaC"}, None, True, "purge is not"),
])
def test_a_purge_without_a_scope_is_refused(purge, options, client_id, many, words):
    with pytest.raises(DefenderInputError) as caught:
        purge_scope(purge, options, client_id, many)
    assert words in str(caught.value)


def test_absent_for_many_is_one_batch_delete_and_absent_for_one_is_one_delete(client, control):
    items = titled("absent ", 3)
    apply(client, items)
    control("DELETE", "/log")
    rows = apply(client, [dict(i, state="absent") for i in items[:2]])
    assert [r.outcome for r in rows] == ["deleted", "deleted"]
    assert [(c["method"], c["path"]) for c in control.api_calls() if c["method"] != "GET"] == [
        ("POST", "/api/indicators/BatchDelete")]
    control("DELETE", "/log")
    apply(client, [dict(items[2], state="absent")])
    assert [c["method"] for c in control.api_calls() if c["method"] != "GET"] == ["DELETE"]
    assert not [e for e in in_state(control) if e["title"].startswith("absent ")]


def test_info_splits_values_twenty_a_query_and_matches_the_scope_itself(client, control):
    """The API's startswith may ignore case (the emulator's does); the scope, like a purge's, does not."""
    apply(client, titled("Info ", 25) + titled("info ", 2, start=100))
    control("DELETE", "/log")
    values = ["%040X" % (0xfeed0000 + i) for i in range(25)]   # upper case: hashes are compared in lower case
    found = list_indicators(client, {"value": values, "title_prefix": "Info "})
    assert len(found) == 25
    queries = [c["query"]["$filter"] for c in control.api_calls("GET")]
    assert len(queries) == 2 and all("startswith(title,'Info ')" in q for q in queries)
    assert len(list_indicators(client, {"title_prefix": "Info "})) == 25   # the two "info " ones are left out
