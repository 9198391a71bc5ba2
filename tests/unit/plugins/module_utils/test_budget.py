"""The shared rate budget: sliding windows, in-flight calls, 429 pauses, and a clear error when it is spent."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._budget import (
    RateBudget,
    parse_limits,
    rate_class,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError, DefenderRateLimitError
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def budget(tmp_path, limits, fake):
    return RateBudget(str(tmp_path), "k", parse_limits(limits), clock=fake.clock, sleep=fake.sleep)


def test_classes_follow_the_documented_endpoints():
    assert rate_class("/api/machines/x/runliveresponse") == "runliveresponse"
    assert rate_class("/api/machineactions/x/getPackageUri") == "getpackageuri"
    assert rate_class("/api/machines/x/StopAndQuarantineFile") == "stopandquarantinefile"
    assert rate_class("/api/advancedqueries/run") == "advancedqueries"
    assert rate_class("/api/machines/x/startInvestigation") == "startinvestigation"
    assert rate_class("/api/indicators/import") == "indicatorimport"
    assert rate_class("/api/indicators/BatchDelete") == "indicatorbatchdelete"


def test_calls_beyond_a_window_wait_for_it(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, {"default": [[3, 10]]}, fake)
    for dummy in range(3):
        b.done(b.reserve("default", 60))
    assert fake.slept == []
    b.done(b.reserve("default", 60))
    assert 9.9 < sum(fake.slept) < 10.5
    assert b.report()["paced_calls"] == 1


def test_two_budgets_on_one_file_share_it(tmp_path):
    fake = FakeTime()
    one = budget(tmp_path, {"default": [[2, 10]]}, fake)
    two = budget(tmp_path, {"default": [[2, 10]]}, fake)
    one.done(one.reserve("default", 60))
    two.done(two.reserve("default", 60))
    one.reserve("default", 60)
    assert sum(fake.slept) >= 9.9


def test_a_call_in_flight_counts_until_its_answer_arrives(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, {"default": [[1, 10]]}, fake)
    ticket = b.reserve("default", 60)
    fake.now += 30           # a slow answer: the window starts when it arrives, not when it was sent
    b.done(ticket)
    b.reserve("default", 60)
    assert 9.9 < sum(fake.slept) < 10.5


def test_a_429_pauses_every_user_of_the_budget(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, None, fake)
    b.pause("default", 42)
    budget(tmp_path, None, fake).reserve("default", 60)
    assert 41.9 < sum(fake.slept) < 42.5
    assert b.report()["rate_limited"] == 1


def test_a_spent_budget_says_when_it_refills(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, {"default": [[1, 3600]]}, fake)
    b.done(b.reserve("default", 60))
    with pytest.raises(DefenderRateLimitError) as info:
        b.reserve("default", 60)
    assert info.value.code == "RateBudgetSpent" and "in 3600 seconds" in str(info.value)
    assert "max_retry_wait" in str(info.value)
    assert fake.slept == []   # it did not wait in vain first


def test_limits_are_checked():
    assert parse_limits('{"runliveresponse": [[5, 60]]}')["runliveresponse"] == [[5, 60.0]]
    for bad in ({"nope": [[1, 1]]}, {"default": [[0, 60]]}, {"default": "x"}, "{not json"):
        with pytest.raises(DefenderInputError):
            parse_limits(bad)


def test_a_paced_client_never_meets_the_limit(emulator, control, params):
    # 2 calls in 5 s: a third sent unpaced would come within 5 s of the first on any machine, however busy (a
    # window of a second, 4 calls, was met unpaced by a machine slow enough, and then nothing had been paced).
    control("POST", "/settings", {"rate_limits": {"default": [[2, 5]]}})
    client = build_client(dict(params, rate_limits={"default": [[2, 5]]}))
    for dummy in range(3):
        client.get("/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07")
    statuses = [c["status"] for c in control.api_calls("GET")]
    assert statuses == [200] * 3
    assert client.budget.report()["paced_calls"] >= 1
