# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The coordination store against a real redis-server that this test starts (never a fake): the budget's windows,
in-flight calls and pauses shared by two "controllers" (two connections), and the submit locks' exclusion, renewal
and fenced journal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import time

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _coordination
from ansible_collections.secops.defender.plugins.module_utils._coordination import (
    RedisBudget,
    RedisLocks,
    RedisStore,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError, DefenderRateLimitError

from .conftest import REDIS_PASSWORD as PASSWORD
from .conftest import free_port


def controller(url):
    """A store as another controller would hold it: its own connection, not the process-wide cache."""
    return RedisStore(url)


def key():
    return os.urandom(8).hex()


def test_two_controllers_share_one_window(redis_url):
    name, limits = key(), {"default": [[3, 3600]]}
    first, second = RedisBudget(controller(redis_url), name, limits), RedisBudget(controller(redis_url), name, limits)
    for budget in (first, second, first):
        budget.done(budget.reserve("default", max_wait=0))
    with pytest.raises(DefenderRateLimitError) as caught:
        second.reserve("default", max_wait=0)
    assert caught.value.code == "RateBudgetSpent"
    assert "redis://127.0.0.1:" in str(caught.value) and PASSWORD not in str(caught.value)
    # another class, and another tenant's budget, are not touched
    other = RedisBudget(controller(redis_url), key(), limits)
    other.done(other.reserve("default", max_wait=0))


def test_calls_in_flight_count_until_answered(redis_url):
    name, limits = key(), {"default": [[2, 3600]]}
    first, second = RedisBudget(controller(redis_url), name, limits), RedisBudget(controller(redis_url), name, limits)
    tickets = [first.reserve("default", max_wait=0), second.reserve("default", max_wait=0)]
    with pytest.raises(DefenderRateLimitError):
        first.reserve("default", max_wait=0)
    for ticket in tickets:
        first.done(ticket)
    with pytest.raises(DefenderRateLimitError):   # answered calls still count within their window
        second.reserve("default", max_wait=0)


def test_a_full_window_is_waited_out_never_exceeded(redis_url):
    # The hour window keeps every answer in the store, where the test reads them on Redis' own clock.
    # 2 calls in 3 s: six calls unpaced take less on any machine, however busy, so the pacing is sure to be needed.
    name, limits = key(), {"default": [[2, 3], [1000, 3600]]}
    budgets = [RedisBudget(controller(redis_url), name, limits) for _index in range(2)]

    def work(budget):
        for _call in range(3):
            budget.done(budget.reserve("default", max_wait=60))

    threads = [threading.Thread(target=work, args=(b,)) for b in budgets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done_key = budgets[0]._keys("default")[0]
    times = [score for _member, score in budgets[0].store.client.zrange(done_key, 0, -1, withscores=True)]
    assert len(times) == 6
    # No more than 2 answers in any 3-second window: each call was admitted only once one of the two before it
    # had been answered 3 seconds earlier, whichever controller made it.
    for index in range(len(times) - 2):
        assert times[index + 2] - times[index] >= 3.0 - 1e-6, times
    assert sum(b.report()["paced_calls"] for b in budgets) >= 2


def test_a_429_pauses_every_controller_within_its_bound(redis_url):
    name, limits = key(), {"default": [[100, 60]]}
    first, second = RedisBudget(controller(redis_url), name, limits), RedisBudget(controller(redis_url), name, limits)
    first.pause("default", 30, bound=3600)
    with pytest.raises(DefenderRateLimitError):
        second.reserve("default", max_wait=5)
    assert first.report()["rate_limited"] == 1
    # a Retry-After beyond the caller's bound is cut to it
    bounded = RedisBudget(controller(redis_url), key(), limits)
    # (a bound of a minute, so that a busy machine's pause between the two calls never outlasts it)
    bounded.pause("default", 10 ** 9, bound=60)
    assert 0 < bounded.store.client.pttl(bounded._keys("default")[2]) <= 60000
    bounded.pause("default", float("inf"), bound=3600)   # never an endless pause, nor one of the bound's hour
    assert bounded.store.client.pttl(bounded._keys("default")[2]) <= 60000


def test_locks_exclude_other_controllers(redis_url):
    scope = key()
    first, second = RedisLocks(controller(redis_url), scope), RedisLocks(controller(redis_url), scope)
    inside, entered, release = threading.Event(), threading.Event(), threading.Event()
    order = []

    def holder():
        with first.hold("a" * 40, "StopAndQuarantineFile", "sha1") as journal:
            order.append("first in")
            inside.set()
            release.wait(30)
            journal.record({"id": "action-1", "machineId": "a" * 40})
            order.append("first out")

    def waiter():
        inside.wait(30)
        with second.hold("a" * 40, "StopAndQuarantineFile", "sha1") as journal:
            order.append("second in")
            entered.set()
            assert journal.newer_than(time.time() - 60)["id"] == "action-1"

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    inside.wait(30)
    assert not entered.wait(0.5), "the second controller entered while the first held the lock"
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == ["first in", "first out", "second in"], order
    # another device or action is another lock
    with first.hold("b" * 40, "StopAndQuarantineFile", "sha1"):
        with second.hold("a" * 40, "Isolate", ""):
            pass


def test_a_lock_is_renewed_while_held(redis_url):
    lease = 6.0   # renewed every 2 s: only a stall of 4 s would let it lapse
    locks = RedisLocks(controller(redis_url), key(), lease=lease)
    with locks.hold("c" * 40, "Isolate") as journal:
        lock_key = journal.keys[0]
        # Held for more than twice its lease: without the renewer (every lease/3) the key would be gone.
        time.sleep(2.5 * lease)
        assert locks.store.client.get(lock_key) == journal.token.encode(), "the lease was not renewed"
        journal.record({"id": "action-3"})
    assert not locks.store.client.exists(lock_key), "the lock was not released"


def test_a_holder_that_lost_its_lock_cannot_write_the_journal(redis_url):
    locks = RedisLocks(controller(redis_url), key())
    with locks.hold("d" * 40, "Isolate") as journal:
        locks.store.client.delete(journal.keys[0])   # the lease ran out, and another controller took it
        locks.store.client.set(journal.keys[0], "someone-else")
        with pytest.raises(DefenderError) as caught:
            journal.record({"id": "action-2"})
        assert caught.value.code == "CoordinationStore"
        assert not locks.store.client.exists(journal.keys[1])
    assert locks.store.client.get(journal.keys[0]) == b"someone-else", "released another holder's lock"


def test_the_journal_is_compared_on_one_clock():
    store = type("Store", (), {"offset": 100.0, "url": "redis://x:1"})()
    journal = _coordination.RedisJournal.__new__(_coordination.RedisJournal)
    journal.store, journal.entry = store, {"at": 1000.0, "action": {"id": "x"}}
    # this host's clock is 100 s behind Redis: a look-up at its 900 started at Redis' 1000
    assert journal.newer_than(900.0)["id"] == "x"
    assert journal.newer_than(901.5)["id"] == "x"     # within the skew margin: adopting is harmless
    assert journal.newer_than(903.0) is None


def test_a_store_out_of_reach_fails_naming_it_and_never_the_password(redis_url):
    closed = free_port()
    with pytest.raises(DefenderError) as caught:
        RedisStore("redis://:%s@127.0.0.1:%d/0" % (PASSWORD, closed), timeout=2)
    message = str(caught.value) + (caught.value.hint or "")
    assert caught.value.code == "CoordinationStore" and "redis://127.0.0.1:%d" % closed in message
    assert PASSWORD not in message
    wrong = redis_url.replace(PASSWORD, "not-the-password")
    with pytest.raises(DefenderError) as caught:
        RedisStore(wrong, timeout=2)
    assert caught.value.code == "CoordinationStore" and "not-the-password" not in str(caught.value)
    with pytest.raises(DefenderError) as caught:
        RedisStore("http://127.0.0.1:%d" % closed)
    assert "redis:// or rediss://" in str(caught.value)


def test_build_client_checks_the_store_before_anything_is_sent(tmp_path):
    from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
    closed = free_port()
    params = {"tenant_id": "t", "client_id": "c", "client_secret": "s", "api_url": "https://127.0.0.1:%d" % closed,
              "authority_url": "https://127.0.0.1:%d" % closed, "token_cache_dir": str(tmp_path),
              "coordination_url": "redis://:%s@127.0.0.1:%d" % (PASSWORD, closed), "timeout": 2}
    with pytest.raises(DefenderError) as caught:
        build_client(params)
    assert caught.value.code == "CoordinationStore" and PASSWORD not in str(caught.value)
