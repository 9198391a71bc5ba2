#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_advanced_hunting
short_description: Run advanced hunting queries, or a shipped hunt, and return or save their rows
version_added: 0.3.0
description:
  - Runs one KQL query (O(query)), several (O(queries)), or one of the hunts shipped with the collection (O(hunt) with
    O(hunt_parameters)) through the Defender for Endpoint advanced hunting API (C(POST /api/advancedqueries/run)),
    and returns each query's C(schema) and rows (C(results)), or writes the rows to a file (O(dest)).
  - The queries run one after the other. Every call is paced through the tenant's rate budget, shared by all tasks
    and the C(secops.defender.hunting) lookup on the controller (O(rate_budget)), in the C(advancedqueries) class
    of 45 calls a minute and 1,500 an hour.
  - A 429 for the call quota is waited for (its C(Retry-After), within O(max_retry_wait)). A 429 for the running-time
    quota (10 minutes an hour, 3 hours a day, for the whole tenant) is not retried; the query fails at once with
    when the quota refills, and the queries after it are not sent. Waiting for it blindly would hold the task for up
    to an hour, and the same query would spend the quota again.
  - 'Each refusal of the API has its own error code (RV(error.code)) and says what to do: V(HuntingCallQuota),
    V(HuntingCpuQuota), V(HuntingTimeout) (over 200 seconds), V(HuntingTooManyRows) (over 100,000 rows),
    V(HuntingResultTooLarge) (over 124 MB), V(HuntingOldData) (older than 30 days), V(HuntingResourceLimit),
    V(HuntingQueryRejected) (the API''s text says what is wrong with the KQL); a missing permission is a 403 that
    names C(AdvancedQuery.Read.All).'
  - The module only reads, so check mode runs the queries too; with O(dest) it then writes nothing and reports
    whether the file would change.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  query:
    description:
      - One KQL query, for example V(DeviceInfo | take 5). Sent as written.
      - Exactly one of O(query), O(queries) and O(hunt) is required.
    type: str
  queries:
    description:
      - Several KQL queries, run in order; RV(results) has one row per query.
    type: list
    elements: str
  hunt:
    description:
      - A hunt shipped with the collection, built from O(hunt_parameters). Each parameter is checked for its type
        (a hash is hexadecimal of its length, an IP address parses, a domain, URL or account has its shape) and
        enters the query as a KQL string literal, so no value can change what the query does. Every hunt returns
        C(DeviceId) and C(DeviceName), and takes C(lookback_days), 1 to 30 (default 7).
      - V(devices_with_file) - devices where a file was seen (created, run, or running another process), by C(sha1)
        or C(sha256) (one or a list). Rows C(DeviceId), C(DeviceName), C(FirstSeen), C(LastSeen), C(Events).
      - V(processes_from_file) - processes started from a file, by C(sha1), C(sha256) or C(file_name) (one or a list),
        newest first. Rows C(Timestamp), C(DeviceId), C(DeviceName), C(FileName), C(FolderPath), C(SHA1),
        C(SHA256), C(ProcessId), C(ProcessCommandLine), C(AccountDomain), C(AccountName),
        C(InitiatingProcessFileName), C(InitiatingProcessCommandLine).
      - V(devices_contacted_ip) - devices that connected to C(ip) (one or a list). Rows C(DeviceId), C(DeviceName),
        C(FirstSeen), C(LastSeen), C(Events).
      - V(devices_contacted_domain) - devices that connected to C(domain) or its subdomains (one or a list). Rows as
        for V(devices_contacted_ip).
      - V(devices_contacted_url) - devices that connected to a C(url) (one or a list; the remote URL contains it,
        in any case). Rows as for V(devices_contacted_ip).
      - V(user_logons) - where an account logged on, by C(user) (one or a list of V(alice), V(CORP\\alice) or a
        SID); successful logons only unless C(include_failed=true). Rows C(DeviceId), C(DeviceName),
        C(AccountDomain), C(AccountName), C(LogonType), C(ActionType), C(FirstLogon), C(LastLogon), C(Logons).
    type: str
    choices: [devices_contacted_domain, devices_contacted_ip, devices_contacted_url, devices_with_file,
              processes_from_file, user_logons]
  hunt_parameters:
    description:
      - 'The parameters of O(hunt), for example V({sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f, lookback_days: 30}).
        A parameter the hunt does not take, or a value of the wrong shape, is refused before anything is sent.'
    type: dict
  dest:
    description:
      - Write the rows to this file (on the host the module runs on) instead of returning them; RV(results) then
        says where, how many rows, and the file's SHA-256. With O(queries), a folder (created if missing) that gets
        one file per query, C(query-000.jsonl), C(query-001.jsonl)...
      - The file is replaced as a whole, with mode C(0600), and only when its content changes.
    type: path
  format:
    description:
      - The file format of O(dest) - V(jsonl) (one JSON object a line, as the API returned it) or V(csv) (a header
        of the columns, then a line per row; values that are not text are written as JSON).
      - The rows are text from the tenant's devices, an attacker's among them; see O(csv_formulas).
    type: str
    choices: [jsonl, csv]
    default: jsonl
  csv_formulas:
    description:
      - With O(format=csv), what to do with a text value that a spreadsheet would run as a formula (it starts with
        C(=), C(+), C(-), C(@), a tab or a carriage return), such as a file name C(=HYPERLINK(...)) written by an
        attacker on a device.
      - V(escape) writes it with a C(') in front, so a spreadsheet shows it as text (OWASP "CSV Injection").
        V(keep) writes it as the API returned it, for a tool that reads the CSV as data.
      - Numbers and other values that are not text are never changed. JSON Lines are always as returned.
    type: str
    choices: [escape, keep]
    default: escape
  fail_on_query_error:
    description:
      - With O(queries), whether the task fails at the end when any query failed. The other queries run either way
        (except after a quota error or a missing permission), and every row is returned.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(AdvancedQuery.Read.All).
  - Advanced hunting answers from the last 30 days of data, at most 100,000 rows and 124 MB a query, each query
    running at most 200 seconds. Unless O(timeout) is set, the module waits up to 210 seconds for an answer.
  - Rows are the tenant's data; like every answer of the API they are returned as data, never as a template.
seealso:
  - plugin: secops.defender.hunting
    plugin_type: lookup
  - name: Advanced hunting API
    description: Microsoft's documentation of the endpoint, its limits and its answer.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/run-advanced-query-api
  - name: Advanced hunting schema
    description: The tables and columns a query can use.
    link: https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-schema-tables
"""

EXAMPLES = r"""
- name: Devices where the dropper was seen in the last 30 days
  secops.defender.defender_advanced_hunting:
    hunt: devices_with_file
    hunt_parameters:
      sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
      lookback_days: 30
  register: seen

- name: What has been done on those devices already
  secops.defender.defender_machine_action_info:
    machines: "{{ seen.results[0].results | map(attribute='DeviceId') | unique | list }}"
  when: seen.row_count > 0

- name: Who talked to the C2 domain or its IP, and where alice logged on
  secops.defender.defender_advanced_hunting:
    queries:
      - >-
        DeviceNetworkEvents | where Timestamp > ago(7d) | where RemoteUrl has 'c2.badcdn.example'
        | distinct DeviceId, DeviceName
      - DeviceNetworkEvents | where RemoteIP == '198.51.100.23' | distinct DeviceId, DeviceName
      - DeviceLogonEvents | where AccountName =~ 'alice' | distinct DeviceId, DeviceName
  register: scoping

- name: Keep the processes started from the dropper as CSV
  secops.defender.defender_advanced_hunting:
    hunt: processes_from_file
    hunt_parameters:
      sha1: 8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f
      lookback_days: 30
    dest: /tmp/dropper-processes.csv
    format: csv
  delegate_to: localhost
"""

RETURN = r"""
results:
  description: One row per query, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: The query's place in the task, from 0.
      type: int
    query:
      description: The KQL sent (for a hunt, as it was built).
      type: str
    hunt:
      description: The hunt's name, or V(null) for a query of the task's own.
      type: str
    schema:
      description: The API's C(Schema) of the result, a list of C(Name) and C(Type) per column.
      type: list
      elements: dict
      returned: when the query ran
    columns:
      description: The column names, in order.
      type: list
      elements: str
      returned: when the query ran
    results:
      description: The rows, each a dict of column to value, as the API returned them (C(Results)).
      type: list
      elements: dict
      returned: when the query ran, without O(dest)
    row_count:
      description: How many rows the query returned.
      type: int
      returned: when the query ran
    stats:
      description: The API's C(Stats) of the query (C(ExecutionTime) and the resources it used).
      type: dict
      returned: when the query ran
    dest:
      description: The file the rows were (in check mode, would be) written to.
      type: str
      returned: with O(dest)
    format:
      description: The format of RV(results[].dest).
      type: str
      returned: with O(dest)
    sha256:
      description: The SHA-256 of the file's content.
      type: str
      returned: with O(dest)
    size:
      description: The file's size in bytes.
      type: int
      returned: with O(dest)
    changed:
      description: Whether the file was (in check mode, would be) written; always V(false) without O(dest).
      type: bool
    failed:
      description: Whether this query failed.
      type: bool
    msg:
      description: What happened; for a failure, what to do next.
      type: str
    error:
      description: Why this query failed, with the same keys as RV(error).
      returned: when this query failed
      type: dict
  sample:
    - index: 0
      query: "DeviceInfo | distinct DeviceId, DeviceName"
      hunt: null
      schema: [{Name: DeviceId, Type: String}, {Name: DeviceName, Type: String}]
      columns: [DeviceId, DeviceName]
      results: [{DeviceId: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07, DeviceName: ws-fin-001.corp.example.com}]
      row_count: 1
      stats: {ExecutionTime: 0.5}
      changed: false
      failed: false
      msg: 1 rows.
failed_queries:
  description: The indexes of the queries that failed.
  returned: always
  type: list
  elements: int
  sample: []
summary:
  description: How many queries ran, succeeded and failed, and how many rows they returned in all.
  returned: always
  type: dict
  sample: {queries: 1, succeeded: 1, failed: 0, rows: 2}
query:
  description: With O(query) or O(hunt), the KQL sent.
  returned: with O(query) or O(hunt)
  type: str
  sample: DeviceInfo | take 5
schema:
  description: With O(query) or O(hunt), the result's schema, as in RV(results[].schema).
  returned: with O(query) or O(hunt), when it ran
  type: list
  elements: dict
columns:
  description: With O(query) or O(hunt), the column names.
  returned: with O(query) or O(hunt), when it ran
  type: list
  elements: str
row_count:
  description: With O(query) or O(hunt), how many rows it returned.
  returned: with O(query) or O(hunt), when it ran
  type: int
  sample: 2
dest:
  description: With O(query) or O(hunt) and O(dest), the file written.
  returned: with O(dest)
  type: str
sha256:
  description: With O(query) or O(hunt) and O(dest), the SHA-256 of the file's content.
  returned: with O(dest)
  type: str
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

from ansible_collections.secops.defender.plugins.module_utils._hunting import (CSV_FORMULAS, FORMATS, QUERY_TIMEOUT,
                                                                               hunting_result)
from ansible_collections.secops.defender.plugins.module_utils._hunts import HUNTS
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule

SOURCES = ("query", "queries", "hunt")


def main():
    argument_spec = dict(
        query=dict(type="str"),
        queries=dict(type="list", elements="str"),
        hunt=dict(type="str", choices=sorted(HUNTS)),
        hunt_parameters=dict(type="dict"),
        dest=dict(type="path"),
        format=dict(type="str", choices=list(FORMATS), default="jsonl"),
        csv_formulas=dict(type="str", choices=list(CSV_FORMULAS), default="escape"),
        fail_on_query_error=dict(type="bool", default=True),
    )
    module = DefenderModule(argument_spec, supports_check_mode=True, required_one_of=[SOURCES],
                            mutually_exclusive=[SOURCES], required_by={"hunt_parameters": "hunt"})
    module.run(run)


def run(module):
    if module.params.get("timeout") is None:  # a query may run 200 s: wait for it unless the task said otherwise
        module.client.timeout = QUERY_TIMEOUT
    return hunting_result(module.client, module.params, module.check_mode, warn=module.warn)


if __name__ == "__main__":
    main()
