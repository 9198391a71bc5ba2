# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the live response library, idempotent by content."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._files import digest
from ansible_collections.secops.defender.plugins.module_utils._validate import library_name

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# White space, NUL and the bytes of UTF-8 and UTF-16 byte-order marks: a script of only these is empty.
_BLANK = b" \t\r\n\x0b\x0c\x00\xef\xbb\xbf\xff\xfe"
COMPARED = ("sha256", "description", "hasParameters", "parametersDescription")


def check_not_empty(src):
    """An empty script (0 bytes, or only white space and a byte-order mark) would run on a device and do nothing:
    refuse it before any request, most likely a template that rendered to nothing or a truncated copy."""
    with open(src, "rb") as handle:
        content = handle.read(MAX_UPLOAD_BYTES + 1)
    if not content.translate(None, _BLANK):
        raise DefenderInputError("src %s is empty (%d bytes, nothing but white space); the library would hold a "
                                 "script that does nothing. Nothing was uploaded." % (src, len(content)),
                                 hint="Check that the file was written (or templated) completely.")


def list_library(client):
    return (client.get("/api/libraryfiles") or {}).get("value", [])


def find(library, name):
    for entry in library:
        if (entry.get("fileName") or "").lower() == name.lower():
            return entry
    return None


def _norm(entry):
    if entry is None:
        return None
    return {"fileName": entry.get("fileName"), "sha256": (entry.get("sha256") or "").lower(),
            "description": entry.get("description") or "", "hasParameters": bool(entry.get("hasParameters")),
            "parametersDescription": entry.get("parametersDescription") or ""}


def run(client, params, check_mode):
    name = params.get("name") or (os.path.basename(params["src"]) if params.get("src") else None)
    if not name:
        raise DefenderInputError("Give name, or src to take the name from.")
    library_name(name, "name" if params.get("name") else "the file name of src")
    src = params.get("src")
    if params["state"] == "present":
        if not src or not os.path.isfile(src) or not os.access(src, os.R_OK):
            raise DefenderInputError("src %r is not a readable file." % src)
        if os.path.getsize(src) > MAX_UPLOAD_BYTES:
            raise DefenderInputError("%s is %d bytes; the live response library takes at most 20 MB (%d bytes)."
                                     % (src, os.path.getsize(src), MAX_UPLOAD_BYTES))
        check_not_empty(src)
    current = find(list_library(client), name)
    before = _norm(current)
    result = {"name": name, "changed": False, "diff": {"before": before or {}, "after": {}}}
    if params["state"] == "absent":
        result["diff"]["after"] = {}
        if current is None:
            result["library_file"] = None
            return result
        result["changed"] = True
        result["library_file"] = current
        if not check_mode:
            client.request("DELETE", "/api/libraryfiles/%s" % quote_segment(current["fileName"]))
        return result

    sha256, size = digest(src)
    wanted = {"fileName": current["fileName"] if current else name, "sha256": sha256,
              "description": params.get("description") or "", "hasParameters": bool(params["has_parameters"]),
              "parametersDescription": params.get("parameters_description") or ""}
    result["diff"]["after"] = wanted
    result["sha256"] = sha256
    if before is not None and all(before[k] == wanted[k] for k in COMPARED):
        result["library_file"] = current
        return result
    result["changed"] = True
    if check_mode:
        result["library_file"] = None
        return result
    # Read whole (at most 20 MB, checked above) so that a retry sends the same bytes again.
    with open(src, "rb") as handle:
        content = handle.read()
    form = {"Description": wanted["description"], "HasParameters": str(wanted["hasParameters"]).lower(),
            "OverrideIfExists": "true"}
    if wanted["parametersDescription"]:
        form["ParametersDescription"] = wanted["parametersDescription"]
    # Same content and options give the same library entry, so a retry after a 5xx is safe.
    result["library_file"] = client.request("POST", "/api/libraryfiles", files={"file": (name, content)},
                                            data=form, idempotent=True, expected=(200, 201))
    return result
