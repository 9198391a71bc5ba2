# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: how long to wait before a retry (Retry-After, jittered backoff)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import random
import time
from email.utils import parsedate_to_datetime


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None if absent or unreadable.

    Infinity, NaN and words are unreadable (None): the caller then backs off for a bounded default, as for a 429
    without the header. Callers also cap what they get at max_retry_wait."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def rate_limit_delay(retry_after, attempt, rand=random.random):
    """Wait a little past Retry-After, spread out so that parallel forks don't return in lockstep."""
    if retry_after is None:
        return backoff_delay(attempt, base=5.0, cap=60.0, rand=rand)
    return retry_after + min(5.0, 0.1 * retry_after + 0.25) * rand()


def backoff_delay(attempt, base=1.0, cap=30.0, rand=random.random):
    """Full-jitter exponential backoff: between base/2 and min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * (2 ** attempt))
    return base / 2.0 + (ceiling - base / 2.0) * rand()
