# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the options every module shares, cut at the same seams as the doc fragments
(plugins/doc_fragments/auth.py: WAIT, MACHINE, DEDUPE), and the range checks of every number a task can give.

A module builds its argspec as argspec(own options, WAIT_ARGSPEC, MACHINE_ARGSPEC, ...) and documents it with the
matching fragments; validate-modules holds the two equal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError

WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    poll_interval=dict(type="int", default=10),
)


# The devices a task acts on: one (machine_id or machine_name) or many (machines), exactly one of them.
TARGET_ARGSPEC = dict(
    machine_id=dict(type="str"),
    machine_name=dict(type="str"),
    machines=dict(type="list", elements="str"),
)
TARGETS = ("machine_id", "machine_name", "machines")
TARGET_KWARGS = dict(required_one_of=[TARGETS], mutually_exclusive=[TARGETS])

# How a machine-action module works through many devices (with TARGET_ARGSPEC: the MACHINE fragment).
FLEET_ARGSPEC = dict(
    concurrency=dict(type="int", default=10),
    fail_on_device_error=dict(type="bool", default=True),
    on_active_action=dict(type="str", choices=["fail", "wait"], default="fail"),
)
# For actions that are not repeated when an equal one is pending, running or succeeded.
DEDUPE_ARGSPEC = dict(
    force=dict(type="bool", default=False),
    dedupe_lookback_days=dict(type="int", default=30),
)


MACHINE_ARGSPEC = dict(TARGET_ARGSPEC, **FLEET_ARGSPEC)


def argspec(own, *shared):
    """A module's argument_spec: its own options, then each shared piece (a shared piece never overrides)."""
    spec = dict(own)
    for piece in shared:
        for name, option in piece.items():
            spec.setdefault(name, option)
    return spec


def check_ranges(params):
    """Waits, polls and counts are checked before anything is sent."""
    for name, low, high in RANGES:
        value = params.get(name)
        if value is not None and not low <= value <= high:
            raise DefenderInputError("%s must be between %d and %d, not %s." % (name, low, high, value))
    if params.get("wait") and params.get("poll_interval") and params.get("wait_timeout") \
            and params["poll_interval"] > params["wait_timeout"]:
        raise DefenderInputError("poll_interval (%s) must not be longer than wait_timeout (%s)."
                                 % (params["poll_interval"], params["wait_timeout"]))


# (option, lowest, highest) for every number a task can give; checked before anything is sent.
RANGES = (("wait_timeout", 1, 7 * 86400), ("poll_interval", 1, 3600), ("concurrency", 1, 64),
          ("dedupe_lookback_days", 1, 365), ("timeout", 1, 600), ("max_retry_wait", 0, 86400),
          ("limit", 1, 100000), ("max_sessions", 1, 50), ("max_response_mb", 1, 4096),
          ("adopt_window", 0, 30 * 86400))
