from email.utils import formatdate

from ansible_collections.secops.defender.plugins.module_utils._retries import (
    backoff_delay,
    parse_retry_after,
    rate_limit_delay,
)


def test_retry_after_in_seconds_and_as_a_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert 29 <= parse_retry_after(formatdate(1000.0 + 30, usegmt=True), now=1000.0) <= 30
    assert parse_retry_after(formatdate(10.0, usegmt=True), now=1000.0) == 0.0


def test_unreadable_retry_after_is_none():
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_rate_limit_delay_never_comes_back_early_and_spreads_forks():
    assert rate_limit_delay(10, 1, rand=lambda: 0.0) == 10
    assert 10 < rate_limit_delay(10, 1, rand=lambda: 1.0) <= 11.25
    assert rate_limit_delay(None, 1, rand=lambda: 0.0) >= 2.5


def test_backoff_grows_and_is_capped():
    assert backoff_delay(1, rand=lambda: 1.0) == 2.0
    assert backoff_delay(3, rand=lambda: 1.0) == 8.0
    assert backoff_delay(20, cap=30.0, rand=lambda: 1.0) == 30.0
    assert backoff_delay(5, rand=lambda: 0.0) == 0.5
