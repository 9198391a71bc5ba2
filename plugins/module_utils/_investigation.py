# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the investigation package, as a spec on the machine-action template, and the
download that brings each device's package home as soon as its collection ends."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import zipfile
import zlib

from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
    DefenderIntegrityError,
    DefenderNotFoundError,
)
from ansible_collections.secops.defender.plugins.module_utils._files import AttemptWriters, device_folder, digest, inside
from ansible_collections.secops.defender.plugins.module_utils._fleet import as_request, run_action
from ansible_collections.secops.defender.plugins.module_utils._specs import INVESTIGATION_PACKAGE
from ansible_collections.secops.defender.plugins.module_utils._validate import api_guid

# getPackageUri answers 404 until the package is ready, which can lag the action's Succeeded a little.
URI_ATTEMPTS = 5

SPEC = INVESTIGATION_PACKAGE


def options(comment, dest):
    if not comment:
        raise DefenderInputError("comment must not be empty: the API requires it.")
    if dest is not None and os.path.exists(dest) and not os.path.isdir(dest):
        raise DefenderInputError("dest %s exists and is not a folder." % dest)
    return {"comment": comment}


def package_link(value):
    """The documented value is the URL wrapped in literal double quotes; take it with or without them."""
    link = (value or "").strip().strip('"').strip()
    if not link.lower().startswith("https://"):
        raise DefenderActionError("getPackageUri answered something that is not an https link; nothing was "
                                  "downloaded.")
    return link


class PackageFetcher:
    """on_final callback: download a device's package to
    dest/<safe computer name>-<first 12 of the device id>/investigation-package-<action id>.zip.

    A package already on disk under that name is not fetched again (its action id makes it unique)."""

    def __init__(self, client, dest):
        self.client = client
        self.dest = dest

    def __call__(self, row):
        action = row.action
        action_id = api_guid(action.get("id"), "machine action id")
        folder = os.path.join(self.dest, device_folder(row.machine_name or action.get("computerDnsName"),
                                                       row.machine_id or action.get("machineId")))
        path = inside(self.dest, os.path.join(folder, "investigation-package-%s.zip" % action_id))
        if os.path.exists(path):
            sha256, size = digest(path)
            row.extra["package"] = {"path": path, "size": size, "sha256": sha256, "downloaded": False}
            return
        try:
            os.makedirs(folder, 0o750, exist_ok=True)
        except OSError as exc:
            raise DefenderInputError("Cannot create %s: %s" % (folder, exc.strerror))
        writers = AttemptWriters(folder, os.path.basename(path))

        def check(writer):  # a package is a zip, checked member by member before it is kept
            writer.handle.flush()
            problem = zip_problem(writer.tmp_path)
            if problem:
                raise DefenderIntegrityError("The investigation package of %s is corrupt: %s (%d bytes)."
                                             % (action["id"], problem, writer.size), code="CorruptDownload")

        try:
            self.client.download_fresh(lambda: self._link(action_id), writers, check=check)
            path = writers.last.commit()  # never over another writer's file: it claims the next free name
        except (IOError, OSError) as exc:
            writers.abort()
            raise DefenderActionError("Writing %s failed: %s. Nothing partial was left behind." % (path, exc))
        except Exception as exc:
            writers.abort()
            if isinstance(exc, DefenderError) and not exc.hint:
                exc.hint = ("Nothing partial was kept. The package of action %s was collected: run the task again "
                            "to download it (the collection is found, not repeated)." % action["id"])
            raise
        writer = writers.last
        row.extra["package"] = {"path": path, "size": writer.size, "sha256": writer.sha256, "downloaded": True}

    def _link(self, action_id):
        path = "/api/machineactions/%s/getPackageUri" % quote_segment(action_id)
        for attempt in range(1, URI_ATTEMPTS + 1):
            try:
                return package_link(self.client.get(path).get("value"))
            except DefenderNotFoundError:
                if attempt == URI_ATTEMPTS:
                    raise
                self.client.clock.sleep(2 ** attempt)
        return None


def zip_problem(path):
    """What is wrong with the zip at `path`, or None. Every member is read and its CRC checked (testzip): a package
    damaged at rest passes the storage's length and MD5, and only its content shows it."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        return "it is not a readable zip (%s)" % (str(exc) or type(exc).__name__)
    return "its member %s fails its CRC check" % bad if bad else None


def investigation_package(client, request, comment, dest, **settings):
    """Collect (or reuse a running or recent collection) on every target and, with `dest`, download each
    device's package as its collection ends."""
    request = as_request(request, **settings)
    on_final = PackageFetcher(client, dest) if dest and not request.check_mode else None
    result = run_action(client, SPEC, options(comment, dest), request.but(on_final=on_final))
    # Bringing a package home is a change on the controller, even when the collection was found, not made.
    if any((r.get("package") or {}).get("downloaded") for r in result["results"]):
        result["changed"] = True
    return result
