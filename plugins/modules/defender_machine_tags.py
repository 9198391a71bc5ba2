#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_machine_tags
short_description: Make device tags present or absent, on one device or a whole fleet
version_added: 0.2.0
description:
  - Adds tags to Microsoft Defender for Endpoint devices, or removes them, as desired state. A device that already
    has (or lacks) every tag asked for is reported with C(changed=false) and not written to.
  - For many devices (O(machines)), the current tags come from a few paged reads, and each tag is written with
    C(AddOrRemoveTagForMultipleMachines) in batches of at most 500 devices. One device uses the per-device
    endpoint.
  - Tags are compared exactly, as the API stores them (V(Finance) and V(finance) are two tags).
  - With O(purge=true), O(tags) is the exclusive set of the tags this task manages (O(tag_prefix), O(managed_tags));
    a managed tag a device has that O(tags) does not name is removed. Other tags are never touched. A purge without
    a scope is refused before any request. It works on a whole fleet (O(machines)) in one task.
  - With C(--diff), returns each device's tags before and after (in check mode, what they would be).
  - Every call is paced through the tenant's rate budget, shared by all tasks on the controller (O(rate_budget)).
author:
  - Secops Defender Contributors (@secops-collections)
options:
  tags:
    description:
      - The tags, each at most 200 characters.
      - With O(purge=true), the whole set of managed tags each device should have; it may then be empty, which
        removes every managed tag.
    type: list
    elements: str
    required: true
  purge:
    description:
      - Whether O(tags) is the exclusive set of managed tags. V(true) also removes the managed tags a device has that
        O(tags) does not name; a tag outside O(tag_prefix) and O(managed_tags) is never removed.
      - Needs O(state=present) and O(tag_prefix) or O(managed_tags); without either the task is refused before any
        request.
      - Check mode and C(--diff) list every tag a purge would remove before it is removed.
    type: bool
    default: false
    version_added: 0.3.0
  tag_prefix:
    description:
      - With O(purge=true), the tags this task manages are those starting with this (case-sensitive), for example
        V(iac-).
    type: str
    version_added: 0.3.0
  managed_tags:
    description:
      - With O(purge=true), the tags this task manages, by name. With O(tag_prefix) too, a tag is managed when
        either says so.
    type: list
    elements: str
    version_added: 0.3.0
  state:
    description:
      - V(present) adds the tags a device lacks; V(absent) removes the ones it has. Other tags are left alone.
    type: str
    choices: [present, absent]
    default: present
  machines:
    description:
      - The devices, in one task. Each item is a Defender machine id (40 hexadecimal characters) or a computer DNS
        name; a short name such as V(ws-fin-001) also matches V(ws-fin-001.<domain>).
      - Exactly one of O(machines), O(machine_id) and O(machine_name) is required.
    type: list
    elements: str
  machine_id:
    description:
      - The Defender machine id of one device, 40 hexadecimal characters.
    type: str
  machine_name:
    description:
      - The computer DNS name of one device. It must match exactly one machine.
    type: str
  fail_on_device_error:
    description:
      - With O(machines), whether the task fails at the end when any device failed. The other devices are tagged
        either way, and every row is returned.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_FULL
notes:
  - Needs the application permission C(Machine.ReadWrite.All).
  - With more than ten device ids, the module lists the tenant's devices once (10000 a page) rather than reading
    each device, which is fewer calls for a fleet.
  - In check mode the module reads the devices and reports which tags it would add or remove.
seealso:
  - module: secops.defender.defender_machine_info
  - name: Add or remove machine tags API
    description: Microsoft's documentation of the per-device endpoint.
    link: https://learn.microsoft.com/defender-endpoint/api/add-or-remove-machine-tags
  - name: Add or remove tags for multiple machines API
    description: Microsoft's documentation of the batch endpoint.
    link: https://learn.microsoft.com/defender-endpoint/api/add-or-remove-multiple-machine-tags
"""

EXAMPLES = r"""
- name: Mark the affected devices for the incident
  secops.defender.defender_machine_tags:
    machines: "{{ affected_devices }}"
    tags: [INC-4711, ir-hold]

- name: Take the hold off again
  secops.defender.defender_machine_tags:
    machines: "{{ affected_devices }}"
    tags: [ir-hold]
    state: absent

- name: "Tags as code: of the iac- tags, exactly these on every finance device (--diff shows each device's change)"
  secops.defender.defender_machine_tags:
    machines: [ws-fin-001, ws-fin-002]
    tags: [iac-finance, iac-patch-ring-1]
    purge: true
    tag_prefix: iac-
  diff: true
"""

RETURN = r"""
results:
  description:
    - One row per device, in the order given; the same id or name given twice makes one row. A device given both by id
      and by name is acted on once; its second row says so and changes nothing.
    - A failed row has its own C(error). The task's RV(error) is that one when one device was given, or when every
      failed device failed for the same coded reason (a spent rate budget, a missing permission); otherwise it carries
      only the task's message.
  returned: always
  type: list
  elements: dict
  contains:
    machine:
      description: The device as it was given, a name or an id (ids in lower case).
      type: str
    machine_id:
      description: The device's machine id, in lower case; V(null) when it is not known, for example for a name that
        matched no device, or several.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    failed:
      description: Whether this device failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    error:
      description: Why this device failed, with the same keys as RV(error).
      returned: when this device failed
      type: dict
    tags_before:
      description: The device's tags before the task.
      type: list
      elements: str
    tags:
      description: The device's tags after the task (in check mode, what they would be).
      type: list
      elements: str
    added:
      description: The tags added (or that would be, in check mode).
      returned: with O(state=present)
      type: list
      elements: str
    removed:
      description: The tags removed (or that would be, in check mode).
      returned: with O(state=absent) or O(purge=true)
      type: list
      elements: str
    changed:
      description: Whether the device's tags were (or would be) changed.
      type: bool
  sample:
    - machine: ws-fin-001.corp.example.com
      machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      tags_before: [finance]
      tags: [finance, INC-4711]
      added: [INC-4711]
      changed: true
      failed: false
      msg: ""
failed_machines:
  description: The devices that failed, as they were given, in the order given.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many devices changed, were already as asked, or failed. Each device counts once.
  returned: always
  type: dict
  contains:
    devices:
      description: How many rows RV(results) has.
      type: int
    changed:
      description: The devices whose tags were (in check mode, would be) changed.
      type: int
    unchanged:
      description: The devices that already were as asked.
      type: int
    failed:
      description: The devices that failed, as in RV(failed_machines).
      type: int
  sample: {devices: 2, changed: 1, unchanged: 1, failed: 0}
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
  sample: {calls: 3, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
diff:
  description:
    - With C(--diff), the devices whose tags change, keyed by computer DNS name (or id), with their tags before and
      after. In check mode, what they would be.
  returned: in diff mode
  type: dict
  version_added: 0.3.0
  contains:
    before:
      description: Each changing device's tags before the task.
      type: dict
    after:
      description: Each changing device's tags after the task.
      type: dict
  sample:
    before: {ws-fin-001.corp.example.com: [finance, iac-old]}
    after: {ws-fin-001.corp.example.com: [finance, iac-finance]}
tags:
  description: The device's tags after the task.
  returned: for one device (not with O(machines))
  type: list
  elements: str
  sample: [finance, INC-4711]
machine_id:
  description: The id of the device, in lower case.
  returned: for one device (not with O(machines))
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: for one device (not with O(machines))
  type: str
  sample: ws-fin-001.corp.example.com
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

from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import TARGET_ARGSPEC, TARGET_KWARGS
from ansible_collections.secops.defender.plugins.module_utils._tags import (
    check_tags,
    machine_tags,
    purge_scope,
    tags_result,
)


def main():
    argument_spec = dict(
        tags=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        fail_on_device_error=dict(type="bool", default=True),
        purge=dict(type="bool", default=False),
        tag_prefix=dict(type="str"),
        managed_tags=dict(type="list", elements="str"),
    )
    argument_spec.update(TARGET_ARGSPEC)
    module = DefenderModule(argument_spec, supports_check_mode=True, **TARGET_KWARGS)
    module.run(run)


def run(module):
    params = module.params
    scope = purge_scope(params["purge"], params["state"], params.get("managed_tags"), params.get("tag_prefix"))
    tags = check_tags(params["tags"], allow_empty=scope is not None)
    targets = target_list(params.get("machine_id"), params.get("machine_name"), params.get("machines"))
    single = not params.get("machines")
    rows = machine_tags(module.client, targets, tags, params["state"], module.check_mode, single, scope=scope)
    return tags_result(rows, single, params["fail_on_device_error"], client=module.client, with_diff=module._diff)


if __name__ == "__main__":
    main()
