# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: machines
short_description: Microsoft Defender for Endpoint devices as inventory hosts
version_added: 0.2.0
description:
  - Lists Defender for Endpoint devices as hosts, chosen by their properties, with C(defender_*) host variables
    and groups by tag, OS, risk and health.
  - The documented properties become one OData filter for one paged query; tags use the C(findbytag) endpoint, one
    call per tag. One sign-in, through the same token cache and rate budget as the modules.
  - The inventory file's name must end in C(.defender.yml) or C(.defender.yaml).
  - A connection option comes from the inventory file, else from the extra variable listed under it
    (C(-e defender_api_url=...)), else from its environment variables.
author:
  - Secops Defender Contributors (@secops-collections)
extends_documentation_fragment:
  - secops.defender.auth.PLUGIN
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it must be V(secops.defender.machines).
    type: str
    required: true
    choices: [secops.defender.machines]
  filter:
    description:
      - A raw OData C($filter) on the Machine properties Microsoft Learn's "List machines API" lists
        (C(computerDnsName), C(id), C(version), C(deviceValue), C(aadDeviceId), C(machineTags), C(lastSeen),
        C(exposureLevel), C(onboardingStatus), C(lastIpAddress), C(healthStatus), C(osPlatform), C(riskScore),
        C(rbacGroupId)), joined to the other options with C(and).
    type: str
  tags:
    description:
      - Only devices with any of these tags.
    type: list
    elements: str
  tag_starts_with:
    description:
      - Match O(tags) as prefixes (the API's C(useStartsWithFilter)).
    type: bool
    default: false
  os_platforms:
    description:
      - Only these platforms, for example V(Windows11), V(Windows10), V(WindowsServer2022), V(Linux), V(macOS).
    type: list
    elements: str
  health_status:
    description:
      - Only these health states, for example V(Active), V(Inactive), V(ImpairedCommunication).
    type: list
    elements: str
  risk_scores:
    description:
      - Only these risk scores (V(None), V(Informational), V(Low), V(Medium), V(High)).
    type: list
    elements: str
  onboarding_status:
    description:
      - Only devices in this onboarding state, for example V(Onboarded).
    type: str
  last_seen_within:
    description:
      - Only devices seen within this long, such as V(30m), V(24h) or V(7d) (a bare number is days).
    type: str
  hostnames:
    description:
      - What names the host, in order of preference; the first one a device has is used.
      - A C(computerDnsName) is used only when it is a plain DNS name (letters, digits, C(-), C(_) and dots); a
        device can rename itself, so any other name falls through to the next choice, with a warning.
    type: list
    elements: str
    choices: [computerDnsName, id, lastIpAddress]
    default: [computerDnsName, id]
  local_connection:
    description:
      - Set C(ansible_connection=local) on every host, so that plays run the Defender modules on the controller
        with C(machine_id={{ defender_id }}). Set V(false) to connect to the devices themselves.
    type: bool
    default: true
  default_groups:
    description:
      - Add the groups C(tag_<tag>), C(os_<platform>), C(risk_<score>) and C(health_<status>), on top of any
        O(keyed_groups).
    type: bool
    default: true
notes:
  - Everything the API returns is data, never a template. Every host variable (and what O(compose), O(groups) and
    O(keyed_groups) see) is marked unsafe on every supported ansible-core, so a device name or tag holding Jinja is
    shown as written and never run. Group names keep letters, digits and C(_) only.
  - Devices whose id is not 40 hexadecimal characters are left out.
  - One host per device id. A re-imaged or re-onboarded device keeps its old record for up to 180 days, so several
    records may share a computer name. The name goes to the record most likely alive (onboarded, then active, then
    the most recently seen); the others are hosts named by their id. Each of them lists the others' ids in
    C(defender_duplicates), and a warning names them all.
"""

EXAMPLES = r"""
# finance.defender.yml: the finance Windows devices seen in the last week
plugin: secops.defender.machines
tags: [finance]
os_platforms: [Windows10, Windows11]
last_seen_within: 7d
# connection: DEFENDER_* or AZURE_* environment variables, or tenant_id/client_id/client_secret here
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/secops.defender/inventory
cache_timeout: 600
keyed_groups:
  - key: defender_rbac_group
    prefix: rbac

# then, for example:
#   ansible-inventory -i finance.defender.yml --graph
#   ansible-playbook -i finance.defender.yml quarantine.yml
# and in quarantine.yml, the ids of a group for a module's machines option:
#   machines: groups['tag_finance'] | map('extract', hostvars, 'defender_id') | list
"""

import re

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._untrusted import HOST_NAME, shaped
from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe
from ansible_collections.secops.defender.plugins.module_utils._connection import client_for
from ansible_collections.secops.defender.plugins.module_utils._selection import SELECTION_OPTIONS, select_machines


def host_vars(machine):
    """The device's properties as defender_* host variables."""
    ips = [a.get("ipAddress") for a in machine.get("ipAddresses") or [] if a.get("ipAddress")]
    return {
        "defender_id": machine["id"].lower(),
        "defender_name": machine.get("computerDnsName"),
        "defender_os": machine.get("osPlatform"),
        "defender_os_version": machine.get("version") or machine.get("osVersion"),
        "defender_tags": list(machine.get("machineTags") or []),
        "defender_risk": machine.get("riskScore"),
        "defender_health": machine.get("healthStatus"),
        "defender_exposure": machine.get("exposureLevel"),
        "defender_onboarding": machine.get("onboardingStatus"),
        "defender_last_ip": machine.get("lastIpAddress"),
        "defender_external_ip": machine.get("lastExternalIpAddress"),
        "defender_ips": ips or [ip for ip in [machine.get("lastIpAddress")] if ip],
        "defender_last_seen": machine.get("lastSeen"),
        "defender_rbac_group": machine.get("rbacGroupName"),
        "defender_aad_device_id": machine.get("aadDeviceId"),
    }


def group_name(prefix, value):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)).strip("_").lower())


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "secops.defender.machines"

    @staticmethod
    def _sanitize_group_name(name):
        """Every group name, keyed_groups and groups included, in letters, digits and "_" only: they come from text
        a device sets (tags, names), and ansible-core 2.16 keeps other characters by default."""
        return re.sub(r"[^A-Za-z0-9_]", "_", str(name))

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".defender.yml", ".defender.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        machines = None
        if use_cache:
            try:
                machines = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if machines is None:
            machines = self._fetch()
        if update_cache:
            self._cache[cache_key] = machines
        self._populate(machines)

    def _fetch(self):
        options = dict((name, self.get_option(name)) for name in SELECTION_OPTIONS)
        try:
            return select_machines(client_for(self.get_option), options)
        except DefenderError as exc:
            raise AnsibleError("secops.defender.machines: %s" % exc)

    def _hostname(self, machine):
        """The first of the `hostnames` the device has in a shape that cannot be a template or a path."""
        for field in self.get_option("hostnames"):
            value = machine.get(field)
            if not value:
                continue
            if field == "id":
                return str(value).lower()  # select_machines keeps only ids of 40 hex
            if shaped(HOST_NAME, str(value), lower=False):
                return str(value)
            self.display.warning("secops.defender.machines: device %s has a %s that is not a plain host name; "
                                 "it is not used as the inventory host name." % (machine.get("id"), field))
        return None

    def _named(self, machines):
        """(host name, machine, other records of that name) for each device, one host per device id.

        A re-imaged or re-onboarded device keeps its old record for up to 180 days (Microsoft Learn, "Offboard
        devices"), so several records can share one computer name. The name goes to the one most likely alive:
        onboarded first, then active, then the most recently seen. The others are hosts named by their id, and
        every record of the name lists the others in defender_duplicates."""
        by_name = {}
        for machine in machines:
            name = self._hostname(machine)
            if name:
                by_name.setdefault(name.lower(), []).append((name, machine))
        out = []
        for records in by_name.values():
            records.sort(key=lambda r: (r[1].get("onboardingStatus") == "Onboarded",
                                        r[1].get("healthStatus") == "Active", instant(r[1].get("lastSeen"))),
                         reverse=True)
            ids = [r[1]["id"].lower() for r in records]
            if len(records) > 1:
                self.display.warning(
                    "secops.defender.machines: %d devices are named %s; the host %s is %s (onboarded, active, seen "
                    "last), the others are hosts named by id: %s. Each lists the others in defender_duplicates."
                    % (len(records), records[0][0], records[0][0], ids[0], ", ".join(ids[1:])))
            for index, (name, machine) in enumerate(records):
                others = [i for i in ids if i != ids[index]]
                out.append((name if index == 0 else ids[index], machine, others))
        return out

    def _populate(self, machines):
        strict = self.get_option("strict")
        for name, machine, duplicates in self._named(machines):
            self.inventory.add_host(name)
            variables = make_unsafe(dict(host_vars(machine), defender_duplicates=duplicates))
            if self.get_option("local_connection"):
                variables["ansible_connection"] = "local"
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            if self.get_option("default_groups"):
                for group in ([group_name("tag", t) for t in variables["defender_tags"]]
                              + [group_name(prefix, variables[key]) for prefix, key in
                                 (("os", "defender_os"), ("risk", "defender_risk"), ("health", "defender_health"))
                                 if variables[key]]):
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, name)
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
