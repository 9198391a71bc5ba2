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
  tenants:
    description:
      - Read several tenants into one inventory, as a managed security provider does for its customers. Each
        entry is a C(name) plus any of the connection options above (C(tenant_id), C(client_id), C(client_secret),
        C(certificate_path), C(api_url), C(authority_url), C(ca_path), C(token_cache_dir), C(rate_limits)...); what
        an entry sets overrides the plugin's own option for that tenant only, so credentials shared by every tenant
        (one multi-tenant app) are given once at the top.
      - C(name) is 1 to 40 letters, digits, C(_) or C(-). Each host gets C(defender_tenant) (the name) and
        C(defender_tenant_id), and joins the group C(tenant_<name>). Host names become C(<name>.<host name>), so
        two customers' C(DESKTOP-01) stay two hosts.
      - Each tenant has its own sign-in, token cache entry and rate budget, as it would in a task that names it.
      - Without O(tenants), the plugin reads the one tenant its connection options name.
    type: list
    elements: dict
    version_added: 0.3.0
  tenant_errors:
    description:
      - What a tenant that cannot be read (a wrong secret, a missing permission, an outage) does to the whole
        inventory. V(fail) stops with that tenant's error; V(warn) leaves its devices out with a warning that names
        it and reads the others.
    type: str
    choices: [fail, warn]
    default: fail
    version_added: 0.3.0
  default_groups:
    description:
      - Add the groups C(tag_<tag>), C(os_<platform>), C(risk_<score>) and C(health_<status>), on top of any
        O(keyed_groups).
    type: bool
    default: true
notes:
  - Act on the hosts of a group with one task (C(run_once=true)) whose
    O(secops.defender.defender_quarantine_file#module:machines) lists the group's C(defender_id) values, which costs
    about one API call per device, in about the time the rate limits allow. One task per host, with C(machine_id) set to the
    host's C(defender_id), costs about 1.2 calls per device with forks 25 (3 on its own), since the one-device tasks
    of one controller share one list query for their equal-action look-ups and their polls through the state folder
    (only a query sent after a task asked for it, never an older answer). 1000 hosts at the documented limits took
    1.22 times the bound those limits allow, at 1.19 calls per device; Ansible's own cost of a task per host remains.
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
# and in quarantine.yml, best: one task for the whole group, with the group's ids in the module's machines option
# (about one API call per device):
#   - hosts: tag_finance
#     gather_facts: false
#     tasks:
#       - secops.defender.defender_quarantine_file:
#           machines: "{{ ansible_play_hosts | map('extract', hostvars, 'defender_id') | list }}"
#           sha1: "{{ sha1 }}"
#           comment: "{{ ticket }}"
#         run_once: true
#         delegate_to: localhost
# The per-host form (one task per host with machine_id: "{{ defender_id }}") works too: concurrent forks share
# their look-ups and polls (about 1.2 calls per device), but pay Ansible's cost of one task per host.


# Several tenants in one inventory (a second file; shown as comments, since EXAMPLES is one YAML document):
# customers.defender.yml: two customers' devices, read through one multi-tenant app that each customer consented
# to (client_id and client_secret from DEFENDER_CLIENT_ID and DEFENDER_CLIENT_SECRET); hosts such as
# contoso.ws-01.contoso.com in the groups tenant_contoso and tenant_fabrikam
# plugin: secops.defender.machines
# tenants:
#   - name: contoso
#     tenant_id: 11111111-1111-4111-8111-111111111111
#   - name: fabrikam
#     tenant_id: 22222222-2222-4222-8222-222222222222
#     rate_limits: {default: [[50, 60], [750, 3600]]}   # leave this customer half of its budget
# tenant_errors: warn
"""

import re

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError
from ansible_collections.secops.defender.plugins.module_utils._times import instant
from ansible_collections.secops.defender.plugins.module_utils._untrusted import HOST_NAME, shaped
from ansible_collections.secops.defender.plugins.plugin_utils._unsafe import make_unsafe
from ansible_collections.secops.defender.plugins.module_utils._connection import AUTH_ARGSPEC, build_client, connection_for
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


TENANT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def tenant_entries(tenants):
    """The `tenants` option checked: [(name, {connection option: value})], names unique (case-insensitive)."""
    out, seen = [], set()
    for index, entry in enumerate(tenants or []):
        if not isinstance(entry, dict):
            raise AnsibleError("secops.defender.machines: tenants[%d] must be a dict with a name and connection "
                               "options, not %s." % (index, type(entry).__name__))
        name = entry.get("name")
        if not isinstance(name, str) or not TENANT_NAME.match(name):
            raise AnsibleError("secops.defender.machines: tenants[%d] needs a name of 1 to 40 letters, digits, _ "
                               "or -, not %r; it names the host prefix and the group tenant_<name>." % (index, name))
        if name.lower() in seen:
            raise AnsibleError("secops.defender.machines: the tenant name %s is given twice." % name)
        seen.add(name.lower())
        unknown = sorted(k for k in entry if k != "name" and k not in AUTH_ARGSPEC)
        if unknown:
            raise AnsibleError("secops.defender.machines: tenants[%d] (%s) has unknown option(s) %s; an entry takes "
                               "a name and the connection options (%s)."
                               % (index, name, ", ".join(unknown), ", ".join(sorted(AUTH_ARGSPEC))))
        out.append((name, dict((k, v) for k, v in entry.items() if k != "name")))
    return out


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
        if not (isinstance(machines, list) and all(isinstance(t, dict) and "machines" in t for t in machines)):
            machines = None   # nothing cached, or what an older release cached (a bare list of devices)
            update_cache = self.get_option("cache")
        if machines is None:
            machines = self._fetch()
        if update_cache:
            self._cache[cache_key] = machines
        for tenant in machines:
            self._populate(tenant)

    def _fetch(self):
        """[{"tenant": name or None, "tenant_id": ..., "machines": [...]}], one entry per tenant read."""
        options = dict((name, self.get_option(name)) for name in SELECTION_OPTIONS)
        entries = tenant_entries(self.get_option("tenants"))
        if not entries:
            try:
                return [{"tenant": None, "tenant_id": None,
                         "machines": select_machines(build_client(connection_for(self.get_option)), options)}]
            except DefenderError as exc:
                raise AnsibleError("secops.defender.machines: %s" % exc)
        out = []
        for name, overrides in entries:
            def get_option(option, overrides=overrides):
                return overrides[option] if option in overrides else self.get_option(option)
            try:
                connection = connection_for(get_option)
                machines = select_machines(build_client(connection), options)
            except DefenderError as exc:
                if self.get_option("tenant_errors") == "warn":
                    self.display.warning("secops.defender.machines: tenant %s was not read, its devices are left "
                                         "out: %s" % (name, exc))
                    continue
                raise AnsibleError("secops.defender.machines: tenant %s: %s" % (name, exc))
            out.append({"tenant": name, "tenant_id": connection.get("tenant_id"), "machines": machines})
        return out

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

    def _populate(self, tenant):
        strict = self.get_option("strict")
        prefix = "%s." % tenant["tenant"] if tenant["tenant"] else ""
        for name, machine, duplicates in self._named(tenant["machines"]):
            name = prefix + name
            self.inventory.add_host(name)
            variables = make_unsafe(dict(host_vars(machine), defender_duplicates=duplicates))
            if tenant["tenant"]:
                variables.update(defender_tenant=tenant["tenant"], defender_tenant_id=tenant["tenant_id"])
                group = group_name("tenant", tenant["tenant"])
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
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
