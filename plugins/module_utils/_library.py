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


def check_source(src, option="src"):
    """A file the library can take: readable, at most 20 MB, not empty. Raises DefenderInputError otherwise."""
    if not src or not os.path.isfile(src) or not os.access(src, os.R_OK):
        raise DefenderInputError("%s %r is not a readable file." % (option, src))
    if os.path.getsize(src) > MAX_UPLOAD_BYTES:
        raise DefenderInputError("%s is %d bytes; the live response library takes at most 20 MB (%d bytes)."
                                 % (src, os.path.getsize(src), MAX_UPLOAD_BYTES))
    check_not_empty(src)


def list_library(client):
    """Every library entry (Learn, "List library files": GET /api/libraryfiles,
    https://learn.microsoft.com/defender-endpoint/api/list-library-files)."""
    return (client.get("/api/libraryfiles") or {}).get("value", [])


def find(library, name):
    for entry in library:
        if (entry.get("fileName") or "").lower() == name.lower():
            return entry
    return None


def norm(entry):
    """The compared fields of a library entry (None for none): absent and empty texts are the same."""
    if entry is None:
        return None
    return {"fileName": entry.get("fileName"), "sha256": (entry.get("sha256") or "").lower(),
            "description": entry.get("description") or "", "hasParameters": bool(entry.get("hasParameters")),
            "parametersDescription": entry.get("parametersDescription") or ""}


def wanted_entry(name, sha256, description="", has_parameters=False, parameters_description=""):
    """The compared fields as a task wants them."""
    return {"fileName": name, "sha256": sha256, "description": description or "",
            "hasParameters": bool(has_parameters), "parametersDescription": parameters_description or ""}


def same(before, wanted):
    return before is not None and all(before[k] == wanted[k] for k in COMPARED)


def upload(client, src, wanted):
    """POST the file with OverrideIfExists (Learn, "Upload to library",
    https://learn.microsoft.com/defender-endpoint/api/upload-library); the new entry."""
    # Read whole (at most 20 MB, checked before) so that a retry sends the same bytes again.
    with open(src, "rb") as handle:
        content = handle.read()
    form = {"Description": wanted["description"], "HasParameters": str(wanted["hasParameters"]).lower(),
            "OverrideIfExists": "true"}
    if wanted["parametersDescription"]:
        form["ParametersDescription"] = wanted["parametersDescription"]
    # Same content and options give the same library entry, so a retry after a 5xx is safe.
    return client.request("POST", "/api/libraryfiles", files={"file": (wanted["fileName"], content)},
                          data=form, idempotent=True, expected=(200, 201))


def delete(client, entry):
    """DELETE the entry (Learn, "Delete a file from the live response library": 204,
    https://learn.microsoft.com/defender-endpoint/api/delete-library)."""
    client.request("DELETE", "/api/libraryfiles/%s" % quote_segment(entry["fileName"]))


def run(client, params, check_mode):
    name = params.get("name") or (os.path.basename(params["src"]) if params.get("src") else None)
    if not name:
        raise DefenderInputError("Give name, or src to take the name from.")
    library_name(name, "name" if params.get("name") else "the file name of src")
    src = params.get("src")
    if params["state"] == "present":
        check_source(src)
    current = find(list_library(client), name)
    before = norm(current)
    result = {"name": name, "changed": False, "diff": {"before": before or {}, "after": {}}}
    if params["state"] == "absent":
        if current is None:
            result["library_file"] = None
            return result
        result["changed"] = True
        result["library_file"] = current
        if not check_mode:
            delete(client, current)
        return result

    sha256, dummy = digest(src)
    wanted = wanted_entry(current["fileName"] if current else name, sha256, params.get("description"),
                          params["has_parameters"], params.get("parameters_description"))
    result["diff"]["after"] = wanted
    result["sha256"] = sha256
    if same(before, wanted):
        result["library_file"] = current
        return result
    result["changed"] = True
    if check_mode:
        result["library_file"] = None
        return result
    result["library_file"] = upload(client, src, dict(wanted, fileName=name))
    return result


def library_info(client, params):
    """The library entries (unmodified), optionally those of one name or a name prefix, by name."""
    name, prefix = (params.get("name") or "").lower(), (params.get("name_prefix") or "").lower()
    entries = [e for e in list_library(client)
               if (not name or (e.get("fileName") or "").lower() == name)
               and (e.get("fileName") or "").lower().startswith(prefix)]
    entries.sort(key=lambda e: (e.get("fileName") or "").lower())
    return {"changed": False, "library_files": entries, "count": len(entries)}
