#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_library_info
short_description: List the files in the live response library
version_added: 0.3.0
description:
  - Lists the Microsoft Defender for Endpoint live response library, every file with what the API says of it (name,
    SHA-256, description, parameter settings, who created it and when, when it was last updated).
  - With O(name) or O(name_prefix), only the matching files, compared without regard to case as the library does.
    The API has no filter of its own, so the whole library is read with one call either way.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  name:
    description:
      - Only the file of this name (at most one, since names are unique without regard to case).
      - Mutually exclusive with O(name_prefix).
    type: str
  name_prefix:
    description:
      - Only the files whose name starts with this.
      - Mutually exclusive with O(name).
    type: str
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Library.Manage) (the only one the list API takes).
  - Read-only; it runs in check mode as it does otherwise.
  - The names, descriptions and creators are written by whoever manages the tenant's library; treat them as data.
seealso:
  - module: secops.defender.defender_library_file
  - module: secops.defender.defender_library_sync
  - name: List library files API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/list-library-files
"""

EXAMPLES = r"""
- name: Read the whole library
  secops.defender.defender_library_info:
  register: library

- name: Is the triage script there, and which version?
  secops.defender.defender_library_info:
    name: collect_triage.ps1
  register: triage

- name: Show its SHA-256
  ansible.builtin.debug:
    msg: "{{ triage.library_files[0].sha256 if triage.count else 'not in the library' }}"
"""

RETURN = r"""
library_files:
  description: The library entries that match, as the API returned them, ordered by name.
  returned: always
  type: list
  elements: dict
  contains:
    fileName:
      description: The file's name in the library.
      type: str
    sha256:
      description: The SHA-256 of the file's content.
      type: str
    description:
      description: The description shown in the library; V(null) when it has none.
      type: str
    hasParameters:
      description: Whether the script takes parameters.
      type: bool
    parametersDescription:
      description: How the script's parameters are used; left out or V(null) when it has none.
      type: str
    creationTime:
      description: When the file was first uploaded (UTC).
      type: str
    lastUpdatedTime:
      description: When the file was last uploaded (UTC).
      type: str
    createdBy:
      description: Who uploaded it.
      type: str
  sample:
    - fileName: collect_triage.ps1
      sha256: 6e212a0db618507c44e4ec8ee7499dfef7e5767e5f8d31144df3b96fd1145caf
      description: Collect triage data
      creationTime: "2026-10-24T10:54:23.2009016Z"
      lastUpdatedTime: "2026-10-24T10:54:23.2009016Z"
      createdBy: secops-responder
      hasParameters: false
count:
  description: How many files RV(library_files) has.
  returned: always
  type: int
  sample: 1
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

from ansible_collections.secops.defender.plugins.module_utils._library import library_info
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        name=dict(type="str"),
        name_prefix=dict(type="str"),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, mutually_exclusive=[("name", "name_prefix")])
    module.run(lambda m: library_info(m.client, m.params))


if __name__ == "__main__":
    main()
