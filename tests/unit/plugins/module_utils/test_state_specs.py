"""Desired-state actions (isolation, app restriction), the scan's running-only dedupe and the package link, as
pure logic."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _av_scan, _containment, _investigation
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError
from ansible_collections.secops.defender.plugins.module_utils._fleet import current_state, newest_equal

M = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"


def act(kind, status, minute, scope=None, machine=M):
    action = {"id": "%s-%s-%d" % (kind, status, minute), "type": kind, "status": status, "machineId": machine,
              "creationDateTimeUtc": "2026-11-23T10:%02d:00Z" % minute}
    if scope:
        action["scope"] = scope
    return action


@pytest.mark.parametrize("history,state,isolation_type,settled", [
    # the newest isolation that counts is the state
    ([act("Isolate", "Succeeded", 1, "Full")], "isolated", "Full", True),
    ([act("Isolate", "Succeeded", 1, "Full"), act("Unisolate", "Succeeded", 2)], "isolated", "Full", False),
    ([act("Isolate", "Succeeded", 1, "Full"), act("Unisolate", "Succeeded", 2)], "released", "Full", True),
    # a failed or cancelled release leaves the device isolated
    ([act("Isolate", "Succeeded", 1, "Full"), act("Unisolate", "Failed", 2)], "isolated", "Full", True),
    ([act("Isolate", "Succeeded", 1, "Full"), act("Unisolate", "Cancelled", 2)], "released", "Full", False),
    # a pending isolation counts: asking again would be refused anyway
    ([act("Isolate", "Pending", 3, "Full")], "isolated", "Full", True),
    # another isolation type is another state
    ([act("Isolate", "Succeeded", 1, "Selective")], "isolated", "Full", False),
    ([act("Isolate", "Succeeded", 1)], "isolated", "Selective", True),   # no scope: never a second isolation
])
def test_isolation_state_is_the_newest_action_of_the_pair(history, state, isolation_type, settled):
    spec, options = _containment.isolation(state, isolation_type, "c")
    found = current_state(list(reversed(history)), {M}, spec, options)
    assert (M in found) is settled


def test_a_device_with_no_history_is_released_and_not_restricted():
    for spec in (_containment.RELEASE_ISOLATION, _containment.UNRESTRICT):
        assert spec.settled_without_history
    for spec in (_containment.ISOLATE, _containment.RESTRICT):
        assert not spec.settled_without_history
    spec, options = _containment.app_restriction("restricted", "c")
    assert current_state([act("RestrictCodeExecution", "Succeeded", 1, machine="f" * 40)], {M}, spec, options) == {}


def test_scan_counts_only_while_running_and_of_the_same_type():
    options = _av_scan.options("Quick", "c")
    running = act("RunAntiVirusScan", "InProgress", 5, "Quick")
    assert newest_equal([running], {M}, _av_scan.SPEC, options) == {M: running}
    assert newest_equal([act("RunAntiVirusScan", "Succeeded", 5, "Quick")], {M}, _av_scan.SPEC, options) == {}
    assert newest_equal([act("RunAntiVirusScan", "Pending", 5, "Full")], {M}, _av_scan.SPEC, options) == {}


def test_bodies_match_the_documented_request_shapes():
    spec, options = _containment.isolation("isolated", "Selective", "INC-1")
    assert (spec.verb, spec.body(options)) == ("isolate", {"Comment": "INC-1", "IsolationType": "Selective"})
    spec, options = _containment.isolation("released", "Selective", "INC-1")
    assert (spec.verb, spec.body(options)) == ("unisolate", {"Comment": "INC-1"})
    spec, options = _containment.app_restriction("released", "INC-1")
    assert (spec.verb, spec.body(options)) == ("unrestrictCodeExecution", {"Comment": "INC-1"})
    assert _av_scan.SPEC.body(_av_scan.options("Full", "INC-1")) == {"Comment": "INC-1", "ScanType": "Full"}


@pytest.mark.parametrize("value", [
    '"https://userrequests-us.securitycenter.windows.com:443/safedownload/WDATP_Investigation_Package.zip?token=x"',
    "https://userrequests-us.securitycenter.windows.com:443/safedownload/WDATP_Investigation_Package.zip?token=x",
    '  "https://userrequests-us.securitycenter.windows.com:443/safedownload/WDATP_Investigation_Package.zip?token=x" ',
])
def test_package_link_takes_the_documented_quoted_value_and_a_bare_one(value):
    assert _investigation.package_link(value).startswith("https://userrequests-us.securitycenter.windows.com:443/")
    assert not _investigation.package_link(value).endswith('"')


@pytest.mark.parametrize("value", ["", None, '"http://plain.example.com/p.zip"', "javascript:alert(1)"])
def test_package_link_refuses_anything_but_https(value):
    with pytest.raises(DefenderActionError):
        _investigation.package_link(value)
