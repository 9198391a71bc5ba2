# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the antivirus scan's options (the spec is _specs.AV_SCAN)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._specs import AV_SCAN

SPEC = AV_SCAN
SCAN_TYPES = ("Quick", "Full")


def options(scan_type, comment):
    return {"scan_type": scan_type, "comment": comment}
