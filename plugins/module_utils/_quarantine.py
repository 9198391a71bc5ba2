# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: stop and quarantine a file by SHA-1, as a spec on the machine-action template."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._fleet import ActionSpec

SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")


def normalise_sha1(value):
    text = (value or "").strip()
    if not SHA1.match(text):
        hint = ""
        if re.match(r"^[0-9a-fA-F]{64}$", text):
            hint = " That looks like a SHA-256; the API stops and quarantines by SHA-1 only."
        elif re.match(r"^[0-9a-fA-F]{32}$", text):
            hint = " That looks like an MD5; the API stops and quarantines by SHA-1 only."
        raise DefenderInputError("sha1 %r is not a SHA-1 (40 hexadecimal characters).%s" % (value, hint))
    return text.lower()


def same_file(action, options):
    """An equal quarantine is one of the same file (Failed, TimeOut and Cancelled ones don't count: the engine
    asks only for pending, running and succeeded actions)."""
    return ((action.get("relatedFileInfo") or {}).get("fileIdentifier") or "").lower() == options["sha1"]


SPEC = ActionSpec(
    action_type="StopAndQuarantineFile",
    verb="StopAndQuarantineFile",
    permission="Machine.StopAndQuarantine",
    body=lambda options: {"Comment": options["comment"], "Sha1": options["sha1"]},
    equal=same_file,
    key=lambda options: options["sha1"],
    platforms="Windows 10 version 1703 or later, and Windows 11",
)


def options(sha1, comment):
    """The spec's options, checked: nothing is sent before this passes."""
    return {"sha1": normalise_sha1(sha1), "comment": comment}
