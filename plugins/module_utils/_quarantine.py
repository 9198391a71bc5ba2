# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: stop and quarantine a file by SHA-1 (the spec is _specs.QUARANTINE)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._specs import QUARANTINE
from ansible_collections.secops.defender.plugins.module_utils._untrusted import SHA1, shaped

# The spec is in _specs with every other machine action.
SPEC = QUARANTINE


def normalise_sha1(value):
    text = (value or "").strip()
    if shaped(SHA1, text) is None:
        hint = ""
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            hint = " That looks like a SHA-256; the API stops and quarantines by SHA-1 only."
        elif re.fullmatch(r"[0-9a-fA-F]{32}", text):
            hint = " That looks like an MD5; the API stops and quarantines by SHA-1 only."
        raise DefenderInputError("sha1 %r is not a SHA-1 (40 hexadecimal characters).%s" % (value, hint))
    return shaped(SHA1, text)


def options(sha1, comment):
    """The spec's options, checked: nothing is sent before this passes."""
    return {"sha1": normalise_sha1(sha1), "comment": comment}
