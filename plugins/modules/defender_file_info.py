#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_file_info
short_description: From files (SHA-1 or SHA-256) to the devices that hold them, with their information and alerts
version_added: 0.3.0
description:
  - For each file of O(files), reads what Microsoft Defender for Endpoint knows of it, each part selectable with
    O(include) - its information (C(GET /api/files/{id})), its statistics in the organization
    (C(GET /api/files/{id}/stats)), the devices it was seen on (C(GET /api/files/{sha1}/machines)) and its alerts
    (C(GET /api/files/{sha1}/alerts)).
  - Returns per file its facts and RV(results[].machines), and for the whole task the de-duplicated RV(machine_ids),
    ready for the O(secops.defender.defender_quarantine_file#module:machines) of any action module, with the files
    that found each device (RV(machines[].found_by)).
  - The devices and alerts routes take a SHA-1 only (Learn, "Get file-related machines API"). For a SHA-256 the
    module reads the file's information and looks its devices and alerts up by the SHA-1 that gives, and says so in
    RV(results[].notes); when the information gives no SHA-1, the row says that its devices and alerts are not known
    (and the task warns), and still returns the information and statistics.
  - A file the API does not know (404) is a row with RV(results[].found=false), not a failure.
  - Every call is paced through the tenant's rate budget (O(rate_budget)); each of these routes has its own limits of
    100 calls a minute and 1500 an hour.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  files:
    description:
      - The files, by SHA-1 (40 hexadecimal characters) or SHA-256 (64). MD5 is refused before anything is sent.
      - A file given twice is read once.
    type: list
    elements: str
    required: true
  include:
    description:
      - What to read of each file.
    type: list
    elements: str
    choices: [info, stats, machines, alerts]
    default: [info, stats, machines, alerts]
  lookback_hours:
    description:
      - How many hours back the statistics count (C(lookBackHours)), 1 to 720. The API's default is 30 days.
    type: int
  concurrency:
    description:
      - How many files are read at a time. All of them share the tenant's rate budget.
    type: int
    default: 4
  fail_on_entity_error:
    description:
      - Whether the task fails at the end when any file failed (a missing permission, a spent rate budget). The
        other files are read either way, and every row is returned. A file the API does not know is not a failure.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permissions C(File.Read.All) (information, statistics), C(Machine.Read.All) or
    C(Machine.ReadWrite.All) (devices) and C(Alert.Read.All) or C(Alert.ReadWrite.All) (alerts); a 403 names the one
    missing.
  - Device names, file names and alert texts are set by whoever controls a device; they come back as data, never
    as templates.
seealso:
  - module: secops.defender.defender_quarantine_file
  - module: secops.defender.defender_alert_info
  - module: secops.defender.defender_indicator
  - name: Get file information API
    description: Microsoft's documentation of the file entity routes.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-file-information
  - name: Get file-related machines API
    description: The devices of a file, by SHA-1 only.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-file-related-machines
"""

EXAMPLES = r"""
- name: Where is the dropper, and what do we know of it
  secops.defender.defender_file_info:
    files:
      - 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
  register: dropper

- name: Quarantine it on every device that has it, in one task
  secops.defender.defender_quarantine_file:
    machines: "{{ dropper.machine_ids }}"
    sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
    comment: "INC-4711: dropper seen on {{ dropper.machine_ids | length }} device(s)"
  when: dropper.machine_ids | length > 0

- name: Only the devices of a SHA-256 (looked up by the SHA-1 its information gives)
  secops.defender.defender_file_info:
    files:
      - 3f1c8a7e5d4b2a190817f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a291
    include: [machines]
"""

RETURN = r"""
results:
  description: One row per file, in the order given; a file given twice makes one row.
  returned: always
  type: list
  elements: dict
  contains:
    entity:
      description: The file's hash as given, in lower case.
      type: str
    type:
      description: V(sha1) or V(sha256).
      type: str
    found:
      description: Whether the API knows the file (V(false) when it answered 404); V(null) for a failed row.
      type: bool
    info:
      description: The File entity (C(sha1), C(sha256), C(globalPrevalence), C(size), C(isPeFile), C(signer),
        C(determinationType), ...), or V(null) when not found.
      returned: when O(include) has V(info)
      type: dict
    stats:
      description: The file's statistics (C(organizationPrevalence), C(orgFirstSeen), C(orgLastSeen),
        C(globallyPrevalence), C(topFileNames)), or V(null) when not found.
      returned: when O(include) has V(stats)
      type: dict
    alerts:
      description: The alerts related to the file, as the API gives them.
      returned: when O(include) has V(alerts)
      type: list
      elements: dict
    machines:
      description: The devices related to the file, each once, with C(machine_id), C(machine_name), C(os_platform),
        C(health_status), C(last_seen) and C(via), the route that named it (V(machines), or V(alerts) for the
        device of one of its alerts).
      type: list
      elements: dict
    machine_ids:
      description: The ids of RV(results[].machines).
      type: list
      elements: str
    alert_ids:
      description: The ids of its alerts.
      type: list
      elements: str
    notes:
      description: What the module did that a reader should know, for example that a SHA-256's devices were looked
        up by its SHA-1.
      type: list
      elements: str
    failed:
      description: Whether this file failed.
      type: bool
    msg:
      description: What was found, for a failure what to do next.
      type: str
    error:
      description: Why this file failed, with the same keys as RV(error).
      returned: when this file failed
      type: dict
  sample:
    - entity: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
      type: sha1
      found: true
      info: {sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, globalPrevalence: 2, determinationType: Malware}
      stats: {organizationPrevalence: 2, topFileNames: [svc-update.exe]}
      alerts: []
      machines:
        - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
           os_platform: Windows11, health_status: Active, last_seen: "2026-11-30T10:00:00Z", via: machines}
      machine_ids: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07]
      alert_ids: []
      notes: []
      changed: false
      failed: false
      msg: "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f: 1 device(s), 0 alert(s)."
machine_ids:
  description: The devices of every file, each once, in the order found; ready for the
    O(secops.defender.defender_quarantine_file#module:machines) of an action module.
  returned: always
  type: list
  elements: str
  sample: [1e5bc9d7e413ddd7902c2932e418702b84d0cc07, 2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d]
machines:
  description: The same devices with C(machine_id), C(machine_name) and C(found_by), the entities that found each.
  returned: always
  type: list
  elements: dict
  contains:
    machine_id:
      description: The device's id, in lower case.
      type: str
    machine_name:
      description: The device's computer DNS name, as the API gave it.
      type: str
    found_by:
      description: The entities that found the device, in the order given.
      type: list
      elements: str
  sample:
    - {machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, machine_name: ws-fin-001.corp.example.com,
       found_by: [8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f]}
alert_ids:
  description: The alerts of every file, each once; ready for M(secops.defender.defender_alert) and
    M(secops.defender.defender_alert_info).
  returned: always
  type: list
  elements: str
  sample: [da637399794050273582_760707377]
failed_entities:
  description: The files that failed, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many files were read, found, not found or failed, and how many devices and alerts they touch.
  returned: always
  type: dict
  contains:
    entities:
      description: How many rows RV(results) has.
      type: int
    found:
      description: The files the API knows.
      type: int
    not_found:
      description: The files it does not know.
      type: int
    failed:
      description: The files that failed.
      type: int
    machines:
      description: How many devices RV(machine_ids) has.
      type: int
    alerts:
      description: How many alerts RV(alert_ids) has.
      type: int
  sample: {entities: 1, found: 1, not_found: 0, failed: 0, machines: 2, alerts: 0}
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

from ansible_collections.secops.defender.plugins.module_utils._entities import FILES, run_pivot
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def main():
    argument_spec = dict(
        files=dict(type="list", elements="str", required=True),
        include=dict(type="list", elements="str", choices=list(FILES.parts), default=list(FILES.parts)),
        lookback_hours=dict(type="int"),
        concurrency=dict(type="int", default=4),
        fail_on_entity_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True)
    module.run(lambda m: run_pivot(m, FILES, m.params["include"], m.params["lookback_hours"]))


if __name__ == "__main__":
    main()
