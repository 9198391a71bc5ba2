#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_investigation_info
short_description: Get or list Defender for Endpoint automated investigations
version_added: 0.3.0
description:
  - Reads automated investigations (AIR) by id, or lists them by device, state and start time, following pages.
  - Ids are read with one list query per 20 ids; an id the list does not know is read on its own, which also finds an
    investigation by the id of the alert that triggered it.
  - Devices are found by id or name (a few paged queries for the whole list); their investigations come from one
    list query per 20 devices.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  investigation_ids:
    description:
      - The investigations to read, each an investigation id (digits, like V(63017)) or the id of the alert that
        triggered it.
      - Not with any of the other criteria. Ids that match nothing are listed in RV(missing); the task does not fail
        for them.
    type: list
    elements: str
    aliases: [investigation_id]
  machine_id:
    description:
      - Only investigations on this device (40 hexadecimal characters).
    type: str
  machine_name:
    description:
      - Only investigations on this device, found by its computer DNS name (it must match exactly one device).
    type: str
  machines:
    description:
      - Only investigations on these devices, each a device id or a computer name. A name that matches no device or
        several fails the task before any investigation is read.
    type: list
    elements: str
  state:
    description:
      - Only investigations in these states.
    type: list
    elements: str
    choices: [Unknown, Queued, Running, PendingApproval, PendingResource, Benign, SuccessfullyRemediated,
              PartiallyRemediated, PartiallyInvestigated, Failed, InnerFailure, Terminated, TerminatedByUser,
              TerminatedBySystem, UnsupportedOs, UnsupportedAlertType, SuppressedAlert, PreexistingAlert]
  started_after:
    description:
      - Only investigations started at or after this UTC time, like V(2026-11-22T09:41:00Z).
    type: str
  started_before:
    description:
      - Only investigations started at or before this UTC time, like V(2026-11-22T18:00:00Z).
    type: str
  filter:
    description:
      - An extra raw OData C($filter) clause, joined to the others with C(and).
      - The API filters investigations only on startTime, id, state, machineId and triggeringAlertId. A filter that
        names another property is refused before anything is sent.
    type: str
  limit:
    description:
      - The most investigations to return.
    type: int
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.INFO_MODULE
notes:
  - Needs the application permission C(Alert.Read.All) or C(Alert.ReadWrite.All), and C(Machine.Read.All) to find
    devices by name.
  - What the API returns (device names, status details) is the tenant's data, set by whoever controls a device;
    treat it as untrusted text.
seealso:
  - module: secops.defender.defender_investigation
  - name: List Investigations API
    description: Microsoft's documentation of the list this module reads.
    link: https://learn.microsoft.com/defender-endpoint/api/get-investigation-collection
  - name: Get Investigation API
    description: Reading one investigation, by its id or its triggering alert's.
    link: https://learn.microsoft.com/defender-endpoint/api/get-investigation-object
"""

EXAMPLES = r"""
- name: The investigations still open on two devices
  secops.defender.defender_investigation_info:
    machines:
      - ws-fin-001.corp.example.com
      - ws-fin-002.corp.example.com
    state: [Queued, Running, PendingApproval, PendingResource]
  register: open_air

- name: Everything started since a time, at most 100
  secops.defender.defender_investigation_info:
    started_after: "2026-11-22T09:41:00Z"
    limit: 100
  register: recent_air

- name: Read investigations by id
  secops.defender.defender_investigation_info:
    investigation_ids: "{{ recent_air.investigations | map(attribute='id') | list }}"
  when: recent_air.count > 0
"""

RETURN = r"""
investigations:
  description: The investigation entities as the API returned them, unmodified (untrusted text); for
    O(investigation_ids) in the order given, each once.
  returned: always
  type: list
  elements: dict
  sample:
    - id: "63017"
      startTime: "2026-01-06T14:11:34Z"
      endTime: null
      state: Running
      cancelledBy: null
      statusDetails: null
      machineId: a69a22debe5f274d8765ea3c368d00762e057b30
      computerDnsName: desktop-gtrcon0
      triggeringAlertId: da637139166940871892_-598649278
count:
  description: How many investigations RV(investigations) has.
  returned: always
  type: int
  sample: 1
missing:
  description: The ids of O(investigation_ids) that matched no investigation (as an investigation id or a triggering
    alert id).
  returned: always
  type: list
  elements: str
  sample: ["99999"]
error:
  description: Why the task failed. For an error the API answered, what it said; for any other failure (bad
    input, no connection, a check that did not pass) the module's own reason, with V(null) for what does not
    apply.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request; V(null) when no HTTP answer is behind the failure.
      type: int
    code:
      description: The API's error code, for example V(ResourceNotFound) or V(OsPlatformNotSupported) (see
        L(the API's error codes,https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors)), or the
        module's own, for example V(ConnectTimeout), V(RateBudgetSpent) or V(UnexpectedResponse); V(null) when
        there is none.
      type: str
    message:
      description: The API's error message, or the module's own when the API gave none.
      type: str
    correlation_id:
      description: The id Microsoft support asks for, the C(target) of the API's error (or the answer's
        request id header when the error has none); V(null) when the answer had neither.
      type: str
    method:
      description: The HTTP method of the failed request; V(null) when no request failed.
      type: str
    path:
      description: The path of the failed request (for a download, without its query, which is a
        credential); V(null) when no request failed.
      type: str
"""

from ansible_collections.secops.defender.plugins.module_utils._automated_investigation import (
    FILTERABLE,
    STATES,
    check_investigation_id,
    read_investigations,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._machines import (
    ambiguous_message,
    not_found_message,
    resolve_names,
    target_list,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._odata import check_filter
from ansible_collections.secops.defender.plugins.module_utils._validate import utc_timestamp

CRITERIA = ("machine_id", "machine_name", "machines", "state", "started_after", "started_before", "filter")


def main():
    argument_spec = dict(
        investigation_ids=dict(type="list", elements="str", aliases=["investigation_id"]),
        machine_id=dict(type="str"),
        machine_name=dict(type="str"),
        machines=dict(type="list", elements="str"),
        state=dict(type="list", elements="str", choices=list(STATES)),
        started_after=dict(type="str"),
        started_before=dict(type="str"),
        filter=dict(type="str"),
        limit=dict(type="int"),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            mutually_exclusive=[("machine_id", "machine_name", "machines")]
                            + [("investigation_ids", c) for c in CRITERIA])
    module.run(run)


def run(module):
    params = module.params
    ids = None
    if params["investigation_ids"] is not None:
        ids = []
        for value in params["investigation_ids"]:
            checked = check_investigation_id(value, "investigation_ids")
            if checked not in ids:
                ids.append(checked)
        if not ids:
            raise DefenderInputError("investigation_ids is empty: give at least one investigation id.")
    after = utc_timestamp(params["started_after"], "started_after") if params["started_after"] else None
    before = utc_timestamp(params["started_before"], "started_before") if params["started_before"] else None
    if params["filter"]:
        check_filter(params["filter"], FILTERABLE, entity="investigations")
    machine_ids = None
    if params["machine_id"] or params["machine_name"] or params["machines"]:
        machine_ids = machine_ids_of(module.client, target_list(params["machine_id"], params["machine_name"],
                                                                params["machines"]))
    found, missing = read_investigations(module.client, ids=ids, machine_ids=machine_ids, states=params["state"],
                                         started_after=after, started_before=before,
                                         odata_filter=params["filter"], limit=params["limit"])
    return {"changed": False, "investigations": found, "count": len(found), "missing": missing}


def machine_ids_of(client, targets):
    """Device ids for the targets: ids as given, names with a few bulk queries; a name that matches no device or
    several fails the task."""
    names = [given for given, kind in targets if kind == "name"]
    found = resolve_names(client, names) if names else {}
    ids = []
    for given, kind in targets:
        if kind == "id":
            ids.append(given)
            continue
        matches = found.get(given) or []
        if len(matches) != 1:
            raise DefenderInputError(ambiguous_message(given, matches) if matches else not_found_message(given))
        ids.append(matches[0]["id"].lower())
    return ids


if __name__ == "__main__":
    main()
