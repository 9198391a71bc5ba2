# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the antivirus scan, as a spec on the machine-action template."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._actions import ACTIVE
from ansible_collections.secops.defender.plugins.module_utils._fleet import ActionSpec

SCAN_TYPES = ("Quick", "Full")


def same_scan_type(action, options):
    scope = action.get("scope")
    return not scope or scope.lower() == options["scan_type"].lower()


# A scan that ended is history, not state: only one of the same type that is still pending or running makes a new
# one unneeded.
SPEC = ActionSpec(
    action_type="RunAntiVirusScan", verb="runAntiVirusScan", permission="Machine.Scan",
    body=lambda options: {"Comment": options["comment"], "ScanType": options["scan_type"]},
    equal=same_scan_type, key=lambda options: options["scan_type"], counts=ACTIVE,
    platforms="Windows 10 version 1709 or later, and Windows 11")


def options(scan_type, comment):
    return {"scan_type": scan_type, "comment": comment}
