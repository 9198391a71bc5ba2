"""Indicators: type inference, input checks, what counts as a difference, and calls per batch (real client,
emulator)."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._indicators import (
    apply,
    check,
    differences,
    infer_type,
)

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
