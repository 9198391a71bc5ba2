#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_library_file
short_description: Manage a file in the live response library
version_added: 0.1.0
description:
  - Uploads a script or tool to the Microsoft Defender for Endpoint live response library, or removes it.
  - Idempotent by content. When the library already holds a file of that name with the same SHA-256, description
    and parameter settings, nothing changes; otherwise the file is uploaded with C(OverrideIfExists).
  - Live response can only run scripts that are in the library, so this module is what makes
    M(secops.defender.defender_live_response) usable from a playbook alone.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  src:
    description:
      - The local file to upload. Required with O(state=present).
      - The API takes at most 20 MB; a larger file is refused before anything is sent.
      - An empty file (0 bytes, or only white space and byte-order marks) is refused before anything is sent, as the
        library would hold a script that does nothing.
    type: path
  name:
    description:
      - The file's name in the library. Defaults to the base name of O(src).
      - Names are compared without regard to case, as the library does.
    type: str
  description:
    description:
      - The description shown in the library.
    type: str
    default: ''
  has_parameters:
    description:
      - Whether the script takes parameters.
    type: bool
    default: false
  parameters_description:
    description:
      - How the script's parameters are used, shown in the library.
    type: str
    default: ''
  state:
    description:
      - Whether the file should be in the library.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Library.Manage).
  - The library does not give a file's content back, only its SHA-256, which is what is compared.
seealso:
  - module: secops.defender.defender_live_response
  - name: Upload to library API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/upload-library
"""

EXAMPLES = r"""
- name: Keep the triage script in the library
  secops.defender.defender_library_file:
    src: files/collect_triage.ps1
    description: Collect processes, services and autoruns
    has_parameters: true
    parameters_description: "-Full for a deep collection"

- name: Remove an old tool
  secops.defender.defender_library_file:
    name: old_tool.exe
    state: absent
"""

RETURN = r"""
name:
  description: The file's name in the library.
  returned: always
  type: str
  sample: collect_triage.ps1
sha256:
  description: The SHA-256 of O(src).
  returned: when O(state=present)
  type: str
  sample: 0f4c1c7e2e4a9d8f6b3a1c5e7d9f0b2a4c6e8d0f1a3b5c7d9e1f3a5b7c9d1e3f
library_file:
  description: The library entry as the API returned it (after an upload, the new entry). V(null) when there is
    none, or in check mode when an upload would happen.
  returned: always
  type: dict
  sample:
    fileName: collect_triage.ps1
    sha256: 0f4c1c7e2e4a9d8f6b3a1c5e7d9f0b2a4c6e8d0f1a3b5c7d9e1f3a5b7c9d1e3f
    description: Collect processes, services and autoruns
    hasParameters: true
    parametersDescription: "-Full for a deep collection"
    createdBy: secops-responder
diff:
  description: The compared fields before and after.
  returned: always
  type: dict
  contains:
    before:
      description: The library entry's compared fields before the task (empty when absent).
      type: dict
    after:
      description: The compared fields as the task wants them (empty when absent).
      type: dict
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

from ansible_collections.secops.defender.plugins.module_utils._library import run
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        src=dict(type="path"),
        name=dict(type="str"),
        description=dict(type="str", default=""),
        has_parameters=dict(type="bool", default=False),
        parameters_description=dict(type="str", default=""),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            required_if=[("state", "present", ("src",)), ("state", "absent", ("name", "src"), True)])
    module.run(lambda m: run(m.client, m.params, m.check_mode))


if __name__ == "__main__":
    main()
