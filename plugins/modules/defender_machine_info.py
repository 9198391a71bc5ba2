#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_machine_info
short_description: Find Defender for Endpoint devices
version_added: 0.1.0
description:
  - Finds devices by id, by name, by tag (exact or starts-with), by IP address at a point in time, or with a raw
    OData filter. With none of those, lists every device.
  - Pages through large results.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  machine_id:
    description:
      - A machine id. Returns that device, or an empty list.
    type: str
  machine_name:
    description:
      - A computer DNS name. A short name such as V(ws-fin-001) also matches V(ws-fin-001.<domain>).
    type: str
  tag:
    description:
      - A device tag.
    type: str
  tag_starts_with:
    description:
      - Match tags that start with O(tag) rather than equal it.
    type: bool
    default: false
  ip:
    description:
      - An internal IP address. Devices seen with it around O(timestamp) are returned.
    type: str
  timestamp:
    description:
      - With O(ip), the point in time to look at, in ISO 8601 (for example V(2026-11-22T10:00:00Z)).
      - The API looks 15 minutes either side of it, within the last 30 days.
    type: str
  filter:
    description:
      - A raw OData C($filter), for example V(healthStatus eq 'Active' and osPlatform eq 'Windows11').
      - The API filters only on the properties that the
        L(List machines API,https://learn.microsoft.com/en-us/defender-endpoint/api/get-machines) page lists -
        computerDnsName, id, version, deviceValue, aadDeviceId, machineTags, lastSeen, exposureLevel, onboardingStatus,
        lastIpAddress, healthStatus, osPlatform, riskScore and rbacGroupId. A filter that names another property is refused before
        anything is sent. O(tag) (findbytag) and O(ip) (findbyip, with the address seen at a time) do more.
    type: str
  limit:
    description:
      - The most devices to return with O(filter) or when listing all.
    type: int
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Machine.Read.All) or C(Machine.ReadWrite.All).
seealso:
  - module: secops.defender.defender_machine_action_info
"""

EXAMPLES = r"""
- name: All finance devices
  secops.defender.defender_machine_info:
    tag: finance
  register: finance

- name: Which device had this IP at the time of the alert (like 2026-11-22T09:41:00Z, within the last 30 days)
  secops.defender.defender_machine_info:
    ip: 10.10.1.21
    timestamp: "{{ alert_time }}"

- name: Active Windows 11 devices with a high risk score
  secops.defender.defender_machine_info:
    filter: "healthStatus eq 'Active' and osPlatform eq 'Windows11' and riskScore eq 'High'"
"""

RETURN = r"""
machines:
  description: The Machine entities found, as the API returned them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      computerDnsName: ws-fin-001.corp.example.com
      osPlatform: Windows11
      healthStatus: Active
      machineTags: [finance]
      lastIpAddress: 10.10.1.21
count:
  description: How many devices were found.
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

from ansible_collections.secops.defender.plugins.module_utils._machines import search
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule


def run(client, params):
    machines = search(client, machine_id=params["machine_id"], machine_name=params["machine_name"],
                      tag=params["tag"], tag_starts_with=params["tag_starts_with"], ip=params["ip"],
                      timestamp=params["timestamp"], odata_filter=params["filter"], limit=params["limit"])
    return {"changed": False, "machines": machines, "count": len(machines)}


def main():
    argument_spec = dict(
        machine_id=dict(type="str"),
        machine_name=dict(type="str"),
        tag=dict(type="str"),
        tag_starts_with=dict(type="bool", default=False),
        ip=dict(type="str"),
        timestamp=dict(type="str"),
        filter=dict(type="str"),
        limit=dict(type="int"),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            mutually_exclusive=[("machine_id", "machine_name", "tag", "ip", "filter")],
                            required_together=[("ip", "timestamp")])
    module.run(lambda m: run(m.client, m.params))


if __name__ == "__main__":
    main()
