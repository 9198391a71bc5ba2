# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the API's timestamps compared as instants, never as text.

The API writes fractions of a second of any length, up to seven digits (Microsoft Learn's own examples show
2020-07-20T10:53:50.19Z and ...59.2Z beside ...01.1234567Z), so "...01.123Z" sorts before "...01.12Z" as text
although it is later.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]00:00)?$")
# What a missing or unreadable time sorts as: before every real one.
EARLIEST = -1


def instant(text):
    """`text` (an ISO 8601 UTC time as the API writes it) as an integer count of 100-nanosecond ticks since the
    epoch, exact for every fraction form; EARLIEST when it is missing or not such a time."""
    match = _ISO.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return EARLIEST
    year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (OverflowError, ValueError):
        return EARLIEST
    return seconds * 10 ** 7 + int((match.group(7) or "").ljust(7, "0"))
