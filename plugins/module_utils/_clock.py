# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: how waiting passes time.

Every wait (the engine's polls, the waiter, a look-up after an unknown outcome, a retried link) asks the client's
clock, which build_client() injects; tests inject a virtual one that moves the emulator's clock instead of
sleeping. Wall-clock instants (journal entries, dedupe windows) stay on time.time: other processes share them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


class Clock:
    """monotonic() for deadlines, sleep() to wait."""

    def monotonic(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


SYSTEM = Clock()
