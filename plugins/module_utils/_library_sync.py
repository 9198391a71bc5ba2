# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: make the live response library hold exactly a folder's files within a scope.

One list of the library, then one upload per new or changed file (compared by SHA-256 and the settings) and, with
purge, one delete per file in the scope that the folder no longer has. A library file outside the scope is never
touched. Every check runs before the list, so a bad folder or a purge without a scope sends nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._files import digest
from ansible_collections.secops.defender.plugins.module_utils._library import (
    check_source,
    delete,
    list_library,
    norm,
    same,
    upload,
    wanted_entry,
)
from ansible_collections.secops.defender.plugins.module_utils._results import LIBRARY_FILES, ItemRow, finish
from ansible_collections.secops.defender.plugins.module_utils._validate import library_name

SHOWN_NAMES = 10


class Scope:
    """Which library files a sync owns: those whose name starts with `prefix`, or those in `names` (both without
    regard to case, as the library compares names); None when neither is given (it then owns only its files)."""

    def __init__(self, prefix=None, names=None):
        self.prefix = (prefix or "").lower() or None
        self.names = set(n.lower() for n in names or ()) or None

    def given(self):
        return self.prefix is not None or self.names is not None

    def __contains__(self, name):
        lowered = (name or "").lower()
        if self.prefix is not None:
            return lowered.startswith(self.prefix)
        return self.names is not None and lowered in self.names

    def describe(self):
        if self.prefix is not None:
            return "name_prefix %r" % self.prefix
        return "managed_names"


class FileRow(ItemRow):
    """One library file's line: what the sync did (or would do) with it."""

    def __init__(self, name, operation, sha256, msg):
        super(FileRow, self).__init__()
        self.name = name
        self.operation = operation     # upload, delete or none
        self.sha256 = sha256
        self.changed = operation != "none"
        self.msg = msg
        self.library_file = None
        self.path = None     # the folder's file, for an upload
        self.had = None      # the compared fields before (_library.norm), None for a new file
        self.wanted = None   # as asked for, None for a deletion

    def fields(self):
        return {"name": self.name, "operation": self.operation, "sha256": self.sha256,
                "library_file": self.library_file}


def _names(values):
    shown = ", ".join(sorted(values)[:SHOWN_NAMES])
    return shown + (" (and %d more)" % (len(values) - SHOWN_NAMES) if len(values) > SHOWN_NAMES else "")


def folder_files(src_dir):
    """{lower-case name: (name, path)} of the files directly in src_dir, names starting with '.' left out; every
    one checked (a valid library name, readable, at most 20 MB, not empty)."""
    if not src_dir or not os.path.isdir(src_dir):
        raise DefenderInputError("src_dir %r is not a folder." % src_dir)
    found = {}
    for name in sorted(os.listdir(src_dir)):
        path = os.path.join(src_dir, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        library_name(name, "the file name %s in src_dir" % path)
        check_source(path, "file")
        if name.lower() in found:
            raise DefenderInputError("src_dir has %s and %s; the library compares names without regard to case, so "
                                     "they would be one file. Rename one." % (found[name.lower()][0], name))
        found[name.lower()] = (name, path)
    return found


def settings_by_name(files, found):
    """{lower-case name: the item of `files`} for the per-file settings; each must name a file of the folder."""
    settings = {}
    for item in files or ():
        library_name(item["name"], "files[].name")
        if item["name"].lower() not in found:
            raise DefenderInputError("files names %s, which is not a file in src_dir (the folder has %s)."
                                     % (item["name"], _names([n for n, dummy in found.values()]) or "no files"))
        settings[item["name"].lower()] = item
    return settings


def check_request(params):
    """The folder, its files and the scope, checked before anything is sent: (scope, found, settings)."""
    for name in params.get("managed_names") or ():
        library_name(name, "managed_names")
    scope = Scope(params.get("name_prefix"), params.get("managed_names"))
    if params["purge"] and not scope.given():
        raise DefenderInputError(
            "purge=true deletes the library files that src_dir does not have, so it needs a scope: without one it "
            "would delete every other file in the tenant's live response library. Nothing was sent.",
            hint="Set name_prefix (for example gitops_) or managed_names to the files this task owns.")
    found = folder_files(params["src_dir"])
    outside = [name for name, dummy in found.values() if scope.given() and name not in scope]
    if outside:
        raise DefenderInputError("src_dir has %s, outside the scope (%s), which this task must not touch. Nothing "
                                 "was sent." % (_names(outside), scope.describe()),
                                 hint="Rename the files to fit the scope, or widen it.")
    return scope, found, settings_by_name(params.get("files"), found)


def _diff_fields(entry):
    return dict((k, v) for k, v in entry.items() if k != "fileName")


def sync(client, params, check_mode):
    scope, found, settings = check_request(params)
    library = list_library(client)
    current = dict(((e.get("fileName") or "").lower(), e) for e in library)
    rows = []
    for key, (name, path) in sorted(found.items()):
        item = settings.get(key) or {}
        sha256, dummy = digest(path)
        had = norm(current.get(key))
        # The library keeps the name's case it has; the folder's case is only compared without it.
        wanted = wanted_entry(had["fileName"] if had else name, sha256, item.get("description"),
                              item.get("has_parameters"), item.get("parameters_description"))
        if same(had, wanted):
            row = FileRow(had["fileName"], "none", sha256, "Unchanged.")
            row.library_file = current[key]
        else:
            why = "new" if had is None else ("content changed" if had["sha256"] != sha256 else "settings changed")
            row = FileRow(wanted["fileName"], "upload", sha256, "%s (%s)." % ("Would upload" if check_mode else "Uploaded", why))
            row.path = path
        row.had, row.wanted = had, wanted
        rows.append(row)
    if params["purge"]:
        for key, entry in sorted(current.items()):
            if key in found or entry.get("fileName") not in scope:
                continue
            library_name(entry.get("fileName"), "the listed library file name")   # it goes into a path
            row = FileRow(entry["fileName"], "delete", norm(entry)["sha256"],
                          "%s (not in src_dir)." % ("Would delete" if check_mode else "Deleted"))
            row.library_file, row.had, row.wanted = entry, norm(entry), None
            rows.append(row)
    if not check_mode:
        # Uploads first: a script renamed in the folder is in the library under its new name before the old goes.
        for row in [r for r in rows if r.operation == "upload"] + [r for r in rows if r.operation == "delete"]:
            try:
                if row.operation == "upload":
                    row.library_file = upload(client, row.path, row.wanted)
                else:
                    delete(client, row.library_file)
            except DefenderError as exc:
                row.fail(exc)
    diff = library_diff(rows, scope, check_mode)
    try:
        result = finish([r.as_dict() for r in rows], LIBRARY_FILES, _counts(rows, check_mode), client=client)
    except DefenderActionError as exc:
        exc.result["diff"] = diff
        raise
    result["diff"] = diff
    return result


def library_diff(rows, scope, check_mode):
    """Every file in the scope before, and as asked for (check mode) or left (a failed row stays as it was)."""
    before, after = {}, {}
    for row in rows:
        if row.had is not None:
            before[row.had["fileName"]] = _diff_fields(row.had)
        kept = row.had if row.failed else row.wanted
        if kept is not None:
            after[kept["fileName"]] = _diff_fields(kept)
    label = scope_label(scope)
    return {"before": before, "after": after, "before_header": "library (%s) before" % label,
            "after_header": "library (%s) %s" % (label, "asked for (check mode)" if check_mode else "after")}


def scope_label(scope):
    if scope.prefix is not None:
        return "files named %s*" % scope.prefix
    if scope.names is not None:
        return "managed_names"
    return "files of src_dir"


def _counts(rows, check_mode):
    counts = {"files": len(rows), "uploaded": 0, "deleted": 0, "would_upload": 0, "would_delete": 0,
              "unchanged": 0, "failed": 0}
    for row in rows:
        if row.failed:
            counts["failed"] += 1
        elif row.operation == "none":
            counts["unchanged"] += 1
        else:
            key = {"upload": "uploaded", "delete": "deleted"}[row.operation]
            counts[("would_" + row.operation) if check_mode else key] += 1
    return counts
