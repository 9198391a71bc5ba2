# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: offboarding, (the spec is _specs.OFFBOARD)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._specs import OFFBOARD

SPEC = OFFBOARD


def options(confirm, comment):
    """Offboarding stops the sensor: nothing is read or sent unless the task says so in so many words."""
    if confirm is not True:
        raise DefenderInputError(
            "defender_offboard stops Defender for Endpoint's sensor on every device it is given, and only "
            "re-onboarding brings it back. Set confirm: true to do it.")
    if not comment:
        raise DefenderInputError("comment must not be empty: the API requires it.")
    return {"comment": comment}
