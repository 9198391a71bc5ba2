#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_library_sync
short_description: Make the live response library hold exactly a folder's files, within a scope
version_added: 0.3.0
description:
  - Uploads every file of a folder (O(src_dir)) to the Microsoft Defender for Endpoint live response library that
    the library does not hold as it is, and with O(purge=true) deletes the library files in the task's scope that
    the folder does not have. The library then holds exactly the folder's files within the scope, which is what a
    Git repository of response scripts wants.
  - The scope is O(name_prefix) (every library file whose name starts with it) or O(managed_names) (those names).
    A library file outside the scope is never uploaded over or deleted, and a folder file outside it fails the task
    before anything is sent.
  - O(purge=true) without a scope is refused before any request, as it would delete every other file in the
    tenant's library.
  - Idempotent by content. The library is listed once; a file is uploaded only when it is new, its SHA-256
    differs, or its description or parameter settings (O(files)) differ. A second run changes nothing.
  - Every file is checked before anything is sent (a valid library name, at most 20 MB, not empty, names unique
    without regard to case), so one bad file fails the task with nothing written.
  - Uploads go first and deletions after them, so a script renamed in the folder is in the library under its new
    name before the old name goes. One failed file does not stop the others; the task fails at the end.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  src_dir:
    description:
      - The folder whose files the library must hold. Only the files directly in it count; subfolders and names
        that start with V(.) (V(.gitkeep)) are left out.
    type: path
    required: true
  name_prefix:
    description:
      - The scope by name. The task owns every library file whose name starts with this, without regard to case
        (V(gitops_) owns V(gitops_triage.ps1) and V(GITOPS_dump.sh), not V(gitops-tool.exe)).
      - Every file of O(src_dir) must start with it.
      - Mutually exclusive with O(managed_names).
    type: str
  managed_names:
    description:
      - The scope by list. The task owns these library file names (compared without regard to case), whether or
        not the folder has them; with O(purge=true), those the folder lacks are deleted.
      - Every file of O(src_dir) must be in the list.
      - Mutually exclusive with O(name_prefix).
    type: list
    elements: str
  purge:
    description:
      - Delete the library files in the scope that O(src_dir) does not have.
      - Needs O(name_prefix) or O(managed_names); without one the task is refused before any request.
    type: bool
    default: false
  files:
    description:
      - Settings per file; a file not listed gets an empty description and no parameters. Each O(files[].name)
        must be a file of O(src_dir).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The file's name in O(src_dir).
        type: str
        required: true
      description:
        description: The description shown in the library.
        type: str
        default: ''
      has_parameters:
        description: Whether the script takes parameters.
        type: bool
        default: false
      parameters_description:
        description: How the script's parameters are used, shown in the library.
        type: str
        default: ''
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Library.Manage).
  - One list call, then one call per file uploaded or deleted, each paced through the tenant's rate budget
    (O(rate_budget)); the library APIs allow 100 calls a minute and 1500 an hour.
  - In check mode the module lists the library and reports every upload and deletion it would make, without
    making them. With C(--diff), the task shows every library file in the scope before it and after it (as asked
    for, in check mode), with its SHA-256, description and parameter settings.
  - The library does not give a file's content back, only its SHA-256, which is what is compared.
seealso:
  - module: secops.defender.defender_library_file
  - module: secops.defender.defender_library_info
  - name: Upload to library API
    description: Microsoft's documentation of the upload this module makes.
    link: https://learn.microsoft.com/defender-endpoint/api/upload-library
  - name: Delete library file API
    description: Microsoft's documentation of the deletion this module makes.
    link: https://learn.microsoft.com/defender-endpoint/api/delete-library
  - name: List library files API
    description: Microsoft's documentation of the list this module reads.
    link: https://learn.microsoft.com/defender-endpoint/api/list-library-files
"""

EXAMPLES = r"""
- name: Keep the library's gitops_ scripts exactly as in the repository
  secops.defender.defender_library_sync:
    src_dir: "{{ playbook_dir }}/scripts"
    name_prefix: gitops_
    purge: true
    files:
      - name: gitops_collect_triage.ps1
        description: Collect processes, services and autoruns
        has_parameters: true
        parameters_description: "-Full for a deep collection"

- name: Own two names only; every other library file is left alone
  secops.defender.defender_library_sync:
    src_dir: files/library
    managed_names: [collect_triage.ps1, long_scan.ps1]
    purge: true
"""

RETURN = r"""
results:
  description:
    - One row per library file in the scope, the folder's files first (by name), then those deleted.
    - A failed row has its own C(error).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file's name in the library.
      type: str
    operation:
      description: V(upload), V(delete) or V(none) (in check mode, what would be done).
      type: str
    sha256:
      description: The SHA-256 of the folder's file, or for a deletion, the library's.
      type: str
    library_file:
      description: The library entry as the API returned it (after an upload, the new entry; for a deletion, the
        entry deleted); V(null) in check mode for an upload.
      type: dict
    changed:
      description: Whether the file was (or would be) uploaded or deleted.
      type: bool
    failed:
      description: Whether this file failed.
      type: bool
    msg:
      description: What happened and why (V(Uploaded (content changed\).), V(Would delete (not in src_dir\).)).
      type: str
    error:
      description: Why this file failed, with the same keys as RV(error).
      returned: when this file failed
      type: dict
  sample:
    - name: gitops_collect_triage.ps1
      operation: upload
      sha256: 0f4c1c7e2e4a9d8f6b3a1c5e7d9f0b2a4c6e8d0f1a3b5c7d9e1f3a5b7c9d1e3f
      library_file: null
      changed: true
      failed: false
      msg: Would upload (new).
failed_files:
  description: The library files that failed, by name.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many files were uploaded, deleted, left unchanged or failed; in check mode how many would be
    uploaded or deleted. Each file counts once.
  returned: always
  type: dict
  contains:
    files:
      description: How many rows RV(results) has.
      type: int
    uploaded:
      description: The files uploaded.
      type: int
    deleted:
      description: The files deleted.
      type: int
    would_upload:
      description: In check mode, the files that would be uploaded.
      type: int
    would_delete:
      description: In check mode, the files that would be deleted.
      type: int
    unchanged:
      description: The files the library already held as they are.
      type: int
    failed:
      description: The files that failed, as in RV(failed_files).
      type: int
  sample: {files: 3, uploaded: 1, deleted: 1, would_upload: 0, would_delete: 0, unchanged: 1, failed: 0}
diff:
  description: Every library file in the scope before the task and after it (check mode, as asked for), keyed by name,
    each with its C(sha256), C(description), C(hasParameters) and C(parametersDescription). A file that failed stays as
    it was.
  returned: always
  type: dict
  contains:
    before:
      description: The files in the scope before the task.
      type: dict
    after:
      description: The files in the scope as asked for (check mode) or after the task.
      type: dict
    before_header:
      description: The header Ansible shows above RV(diff.before).
      type: str
    after_header:
      description: The header Ansible shows above RV(diff.after).
      type: str
  sample:
    before:
      gitops_old_tool.ps1: {sha256: 9b1c..., description: "", hasParameters: false, parametersDescription: ""}
    after:
      gitops_collect_triage.ps1: {sha256: 0f4c..., description: Collect triage, hasParameters: false,
                                  parametersDescription: ""}
    before_header: library (files named gitops_*) before
    after_header: library (files named gitops_*) asked for (check mode)
rate_budget:
  description: What this task saw of the tenant's rate budget, shared by every task on the controller (see
    O(rate_budget)). Shown at C(-v).
  returned: unless O(rate_budget=false)
  type: dict
  contains:
    calls:
      description: The API calls this task made.
      type: int
    paced_calls:
      description: How many of them waited for a free slot before they were sent.
      type: int
    paced_seconds:
      description: How many seconds they waited in all.
      type: float
    rate_limited:
      description: How many times the API answered 429 (too many requests).
      type: int
  sample: {calls: 4, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
error:
  description: Why the task failed. For an error the API answered, what it said; for any other failure (bad input, no
    connection, a check that did not pass) the module's own reason, with V(null) for what does not apply.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request; V(null) when no HTTP answer is behind the failure.
      type: int
    code:
      description: The API's error code, for example V(ResourceNotFound) or V(OsPlatformNotSupported) (see L(the API's
        error codes,https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors)), or the module's own, for
        example V(ConnectTimeout), V(RateBudgetSpent) or V(UnexpectedResponse); V(null) when there is none.
      type: str
    message:
      description: The API's error message, or the module's own when the API gave none.
      type: str
    correlation_id:
      description: The id Microsoft support asks for, the C(target) of the API's error (or the answer's request id
        header when the error has none); V(null) when the answer had neither.
      type: str
    method:
      description: The HTTP method of the failed request; V(null) when no request failed.
      type: str
    path:
      description: The path of the failed request (for a download, without its query, which is a credential); V(null)
        when no request failed.
      type: str
"""

from ansible_collections.secops.defender.plugins.module_utils._library_sync import sync
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        src_dir=dict(type="path", required=True),
        name_prefix=dict(type="str"),
        managed_names=dict(type="list", elements="str"),
        purge=dict(type="bool", default=False),
        files=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str", default=""),
            has_parameters=dict(type="bool", default=False),
            parameters_description=dict(type="str", default=""),
        )),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            mutually_exclusive=[("name_prefix", "managed_names")])
    module.run(lambda m: sync(m.client, m.params, m.check_mode))


if __name__ == "__main__":
    main()
