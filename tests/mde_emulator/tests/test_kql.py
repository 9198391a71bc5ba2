"""The KQL subset: literals and their escapes, each operator, each tabular operator, and every refusal."""

import pytest

from mde_emulator import kql

NOW = 1_800_000_000.0
SCHEMAS = {
    "Events": [("Timestamp", "datetime"), ("DeviceId", "string"), ("FileName", "string"), ("Port", "int"),
               ("Size", "long"), ("Admin", "bool")],
    "Other": [("Timestamp", "datetime"), ("DeviceId", "string"), ("RemoteUrl", "string")],
}
NASTY = ["x' or 1==1 //", "a\nb", "a | take 1", "back\\slash", 'dq"q', "tab\there", "ünï ✓", "' ; Events",
         "// not a comment", "\\'", "''", "@'x'", "x\\n"]
ROWS = [
    {"Timestamp": NOW - 60, "DeviceId": "d1", "FileName": "cmd.exe", "Port": 443, "Size": 10, "Admin": True},
    {"Timestamp": NOW - 3600, "DeviceId": "d1", "FileName": "PowerShell.exe -enc AAA", "Port": 80, "Size": 20,
     "Admin": False},
    {"Timestamp": NOW - 7200, "DeviceId": "d2", "FileName": "notepad.exe", "Port": None, "Size": 30, "Admin": False},
    {"Timestamp": NOW - 86400 * 2, "DeviceId": "d3", "FileName": "cmd.exe", "Port": 8080, "Size": 40, "Admin": None},
] + [{"Timestamp": NOW - 10 - i, "DeviceId": "n%d" % i, "FileName": text, "Port": 1, "Size": 1, "Admin": False}
     for i, text in enumerate(NASTY)]
OTHER = [{"Timestamp": NOW - 5, "DeviceId": "d9", "RemoteUrl": "https://evil.example/x"}]


def run(query):
    plan = kql.compile_query(query, SCHEMAS, NOW)
    return plan.run({"Events": ROWS, "Other": OTHER})


def devices(query):
    return [r["DeviceId"] for r in run(query)]


def refused(query, kind):
    with pytest.raises(kql.KqlError) as info:
        run(query)
    assert info.value.kind == kind, str(info.value)
    return str(info.value)


# --- string literals -----------------------------------------------------------------------------------
@pytest.mark.parametrize("literal, value", [
    ("'plain'", "plain"),
    ('"plain"', "plain"),
    ("'it\\'s'", "it's"),
    ('"say \\"hi\\""', 'say "hi"'),
    ("\"it's\"", "it's"),
    ("'say \"hi\"'", 'say "hi"'),
    ("'a\\\\b'", "a\\b"),
    ("'line\\nbreak'", "line\nbreak"),
    ("'tab\\tstop'", "tab\tstop"),
    ("@'C:\\Windows\\System32'", "C:\\Windows\\System32"),
    ("@'it''s'", "it's"),
    ('@"say ""hi"""', 'say "hi"'),
    ("@'ends with \\'", "ends with \\"),
    ("h'secret'", "secret"),
    ("H@'C:\\x'", "C:\\x"),
    ("'// inside'", "// inside"),
    ("'| take 1'", "| take 1"),
    ("''", ""),
])
def test_string_literals_mean_exactly_their_text(literal, value):
    plan = kql.compile_query("Events | extend V = %s | take 1 | project V" % literal, SCHEMAS, NOW)
    assert plan.run({"Events": ROWS}) == [{"V": value}]


@pytest.mark.parametrize("text", NASTY)
def test_quote_round_trips_and_an_escaped_literal_matches_only_itself(text):
    assert [r["FileName"] for r in run("Events | where FileName == %s" % kql.quote(text))] == [text]
    assert all(text in r["FileName"] for r in run("Events | where FileName contains_cs %s" % kql.quote(text)))


def test_an_unescaped_injection_is_valid_kql_that_matches_everything_and_the_escaped_one_matches_nothing():
    value = "nobody' or 1==1 //"
    assert len(run("Events | where FileName == '%s'" % value)) == len(ROWS)   # why callers must escape
    assert run("Events | where FileName == %s" % kql.quote(value)) == []


def test_a_pipe_or_a_newline_inside_an_escaped_literal_stays_data():
    assert run("Events | where FileName == %s" % kql.quote("x' | take 100 | where '1'=='1")) == []
    assert run("Events | where FileName == %s" % kql.quote("x'\n| take 100 //")) == []


@pytest.mark.parametrize("query, where", [
    ("Events | where FileName == 'a\nb'", "cannot span lines"),
    ("Events | where FileName == @'a\nb'", "cannot span lines"),
    ("Events | where FileName == 'open", "not closed"),
    ("Events | where FileName == \"open", "not closed"),
])
def test_broken_literals_are_syntax_errors(query, where):
    assert where in refused(query, "syntax")


@pytest.mark.parametrize("query, piece", [
    ("Events | where FileName == 'a\\rb'", "escape sequence \\r"),
    ("Events | where FileName == 'a\\x41'", "escape sequence \\x"),
    ("Events | where FileName == 'a\\u0041'", "escape sequence \\u"),
    ("Events | where FileName == 'a' 'b'", "adjacent string literals"),
    ("Events | where FileName == ```multi```", "multi-line string literals"),
])
def test_literals_outside_the_subset_are_refused(query, piece):
    assert piece in refused(query, "unsupported")


def test_comments_run_to_the_end_of_the_line():
    assert devices("Events // a comment | take 0\n| where FileName == 'notepad.exe' // another") == ["d2"]
    assert devices("// leading\nEvents | where FileName == 'notepad.exe'") == ["d2"]


# --- scalar operators ----------------------------------------------------------------------------------
@pytest.mark.parametrize("predicate, expected", [
    ("FileName == 'cmd.exe'", ["d1", "d3"]),
    ("FileName == 'CMD.EXE'", []),
    ("FileName =~ 'CMD.EXE'", ["d1", "d3"]),
    ("DeviceId != 'd1' and Port > 1", ["d3"]),
    ("FileName !~ 'CMD.exe' and Port > 1", ["d1"]),
    ("FileName has 'powershell'", ["d1"]),
    ("FileName has 'power'", []),                     # a whole term only
    ("FileName has 'cmd'", ["d1", "d3"]),             # '.' separates terms
    ("FileName has 'enc aaa'", ["d1"]),
    ("FileName has_cs 'PowerShell'", ["d1"]),
    ("FileName has_cs 'powershell'", []),
    ("FileName !has 'exe' and Port > 1", []),
    ("FileName contains 'SHELL'", ["d1"]),
    ("FileName contains_cs 'SHELL'", []),
    ("FileName !contains 'exe' and Port > 1", []),
    ("FileName startswith 'power'", ["d1"]),
    ("FileName !startswith 'cmd' and Port > 1", ["d1"]),
    ("FileName endswith '.EXE' and Port > 1", ["d1", "d3"]),
    ("FileName endswith_cs '.EXE'", []),
    ("DeviceId in ('d2', 'd3')", ["d2", "d3"]),
    ("DeviceId in ('D2')", []),
    ("DeviceId in~ ('D2', 'D3')", ["d2", "d3"]),
    ("DeviceId !in ('d1', 'd2') and Port > 1", ["d3"]),
    ("DeviceId !in~ ('D1') and Port > 1", ["d3"]),
    ("Port in (80, 8080)", ["d1", "d3"]),
    ("Port >= 443", ["d1", "d3"]),
    ("Port < 443 and Port > 1", ["d1"]),
    ("Port <= 80 and Size >= 20", ["d1"]),
    ("Size > 25 or DeviceId == 'd1' and Port == 80", ["d1", "d2", "d3"]),
    ("(Size > 25 or DeviceId == 'd1') and Port == 80", ["d1"]),
    ("not(DeviceId startswith 'n') and not(Port > 100)", ["d1"]),   # d2's null port: null, not true
    ("Timestamp > ago(30m)", ["d1"] + ["n%d" % i for i in range(len(NASTY))]),
    ("Timestamp < ago(1d)", ["d3"]),
    ("Timestamp >= ago(90m) and Timestamp <= now() and DeviceId startswith 'd'", ["d1"]),
    ("Timestamp < datetime(2027-01-14T08:00:00Z) and Timestamp > ago(2h) and DeviceId == 'd2'", []),
    ("Timestamp > ago(3h) and DeviceId == 'd2'", ["d2"]),
    ("Timestamp > ago(7200s) and DeviceId == 'd2'", []),
    ("Timestamp > ago(7201s) and DeviceId == 'd2'", ["d2"]),
    ("Admin == true", ["d1"]),
    ("Admin", ["d1"]),
    ("isempty(Port) and DeviceId startswith 'd'", ["d2"]),
    ("isnotempty(Admin) and Admin == false and DeviceId startswith 'd'", ["d1", "d2"]),
    ("isnull(Admin)", ["d3"]),
    ("tolower(FileName) == 'powershell.exe -enc aaa'", ["d1"]),
    ("toupper(DeviceId) == 'D2'", ["d2"]),
    ("strlen(DeviceId) == 2 and Size == 40", ["d3"]),
    ("FileName == \"notepad.exe\"", ["d2"]),
])
def test_predicates(predicate, expected):
    assert sorted(set(devices("Events | where %s" % predicate))) == sorted(set(expected))


def test_a_null_is_neither_true_nor_false():
    assert "d2" not in devices("Events | where Port == 1 or Port != 1")
    assert "d2" not in devices("Events | where not(Port == 443)")
    assert "d2" not in devices("Events | where not(Port in (443))")
    assert "d3" not in devices("Events | where not(Admin)")
    assert "d2" in devices("Events | where not(Port == 443) or DeviceId == 'd2'")
    assert "d2" not in devices("Events | where not(Port == 443) and DeviceId == 'd2'")
    assert run("Events | where DeviceId startswith 'd' | summarize countif(Port > 100)") == [{"countif_": 2}]


# --- tabular operators ---------------------------------------------------------------------------------
def test_project_chooses_orders_and_renames_columns():
    plan = kql.compile_query("Events | where DeviceId == 'd2' | project FileName, Id = DeviceId", SCHEMAS, NOW)
    assert plan.schema == [("FileName", "string"), ("Id", "string")]
    assert plan.run({"Events": ROWS}) == [{"FileName": "notepad.exe", "Id": "d2"}]


def test_extend_adds_and_replaces():
    plan = kql.compile_query("Events | where DeviceId == 'd2' | extend Lower = tolower(FileName), Size = 1",
                             SCHEMAS, NOW)
    assert [c for c, _t in plan.schema][-1] == "Lower" and dict(plan.schema)["Size"] == "long"
    row = plan.run({"Events": ROWS})[0]
    assert row["Lower"] == "notepad.exe" and row["Size"] == 1


def test_distinct():
    assert run("Events | where DeviceId startswith 'd' | distinct DeviceId") == [
        {"DeviceId": "d1"}, {"DeviceId": "d2"}, {"DeviceId": "d3"}]
    assert len(run("Events | where DeviceId startswith 'd' | distinct DeviceId, FileName")) == 4


def test_summarize():
    assert run("Events | where DeviceId startswith 'd' | summarize count() by DeviceId") == [
        {"DeviceId": "d1", "count_": 2}, {"DeviceId": "d2", "count_": 1}, {"DeviceId": "d3", "count_": 1}]
    assert run("Events | summarize count()") == [{"count_": len(ROWS)}]
    assert run("Events | where DeviceId == 'none' | summarize count()") == [{"count_": 0}]
    assert run("Events | where DeviceId == 'none' | summarize count() by DeviceId") == []
    assert run("Events | where FileName == 'cmd.exe' | summarize Devices = dcount(DeviceId), Last = max(Timestamp), "
               "First = min(Timestamp), Bytes = sum(Size), Web = countif(Port == 443)") == [
        {"Devices": 2, "Last": NOW - 60, "First": NOW - 86400 * 2, "Bytes": 50, "Web": 1}]
    plan = kql.compile_query("Events | summarize dcount(DeviceId), max(Timestamp) by FileName", SCHEMAS, NOW)
    assert plan.schema == [("FileName", "string"), ("dcount_DeviceId", "long"), ("max_Timestamp", "datetime")]
    assert run("Events | where DeviceId startswith 'd' | summarize by DeviceId") == [
        {"DeviceId": "d1"}, {"DeviceId": "d2"}, {"DeviceId": "d3"}]
    hours = run("Events | where DeviceId startswith 'd' | summarize count() by bin(Timestamp, 1d)")
    assert sum(h["count_"] for h in hours) == 4 and all(h["Timestamp"] % 86400 == 0 for h in hours)


def test_take_limit_order_sort_top_count():
    assert len(run("Events | take 2")) == 2 and len(run("Events | limit 3")) == 3 and run("Events | take 0") == []
    assert devices("Events | where DeviceId startswith 'd' | order by Size") == ["d3", "d2", "d1", "d1"]   # desc
    assert devices("Events | where DeviceId startswith 'd' | sort by Size asc") == ["d1", "d1", "d2", "d3"]
    assert devices("Events | where DeviceId startswith 'd' | order by DeviceId asc, Size desc") == [
        "d1", "d1", "d2", "d3"]
    assert [r["Size"] for r in run("Events | where DeviceId == 'd1' | order by DeviceId asc, Size desc")] == [20, 10]
    assert devices("Events | where DeviceId startswith 'd' | sort by Port asc")[0] == "d2"    # null first ascending
    assert devices("Events | where DeviceId startswith 'd' | sort by Port desc")[-1] == "d2"  # null last descending
    assert devices("Events | where DeviceId startswith 'd' | top 1 by Timestamp") == ["d1"]
    assert devices("Events | where DeviceId startswith 'd' | top 1 by Timestamp asc") == ["d3"]
    assert run("Events | where DeviceId startswith 'd' | count") == [{"Count": 4}]


def test_union_fills_the_other_tables_columns():
    plan = kql.compile_query("union Events, Other | where DeviceId in ('d9', 'd2')", SCHEMAS, NOW)
    assert [c for c, _t in plan.schema][-1] == "RemoteUrl"
    rows = plan.run({"Events": ROWS, "Other": OTHER})
    assert {r["DeviceId"]: (r["RemoteUrl"], r["Port"]) for r in rows} == {"d2": ("", None),
                                                                          "d9": ("https://evil.example/x", None)}


def test_the_schema_names_types_as_the_api_does():
    plan = kql.compile_query("Events | project Timestamp, DeviceId, Port, Size, Admin", SCHEMAS, NOW)
    assert kql.schema_json(plan.schema) == [
        {"Name": "Timestamp", "Type": "DateTime"}, {"Name": "DeviceId", "Type": "String"},
        {"Name": "Port", "Type": "Int32"}, {"Name": "Size", "Type": "Int64"}, {"Name": "Admin", "Type": "Boolean"}]


def test_the_earliest_time_a_query_names_is_known():
    assert kql.compile_query("Events | where Timestamp > ago(31d)", SCHEMAS, NOW).earliest == NOW - 31 * 86400
    assert kql.compile_query("Events | where Timestamp > datetime(2020-01-01)", SCHEMAS, NOW).earliest == \
        1577836800.0
    assert kql.compile_query("Events | take 1", SCHEMAS, NOW).earliest is None


def test_timespans_print_as_kusto_does():
    assert kql.fmt_timespan(90) == "00:01:30"
    assert kql.fmt_timespan(86400 + 3661.5) == "1.01:01:01.5000000"


# --- refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query, message", [
    ("Events | where Filename == 'x'", "Failed to resolve scalar expression named 'Filename'"),   # case-sensitive
    ("Events | project Nope", "Failed to resolve scalar expression named 'Nope'"),
    ("events | take 1", "Failed to resolve table or column expression named 'events'"),
    ("DeviceEvents | take 1", "Failed to resolve table or column expression named 'DeviceEvents'"),
    ("union Events, Nope", "named 'Nope'"),
    ("Events | where Port == '443'", "Cannot compare values of types int and string"),
    ("Events | where Timestamp > 5", "Cannot compare values of types datetime and long"),
    ("Events | where FileName", "must be a boolean expression"),
    ("Events | where Port has '44'", "needs strings"),
    ("Events | where Port =~ 443", "needs strings"),
    ("Events | where Port in~ (443)", "needs strings"),
    ("Events | where DeviceId in ('a', 1)", "Cannot compare values of types string and long"),
    ("Events | where Timestamp > ago('1d')", "ago() needs a timespan"),
    ("Events | where not(Port)", "must be a boolean expression"),
    ("Events | project DeviceId, DeviceId", "named twice"),
    ("Events | where Timestamp > ago(Size)", "ago() needs a timespan"),
    ("Events | summarize count() by DeviceId, count_ = Size", "named twice"),
    ("Events | where DeviceId == 'x' and FileName", "must be a boolean expression"),
    ("Events | summarize sum(FileName)", "sum() needs a number"),
    ("Events | where strlen(DeviceId, 1) == 2", "takes 1 argument"),
])
def test_semantic_errors(query, message):
    assert message in refused(query, "semantic")


@pytest.mark.parametrize("query, piece", [
    ("Events | join Other on DeviceId", "the 'join' operator"),
    ("Events | lookup Other on DeviceId", "the 'lookup' operator"),
    ("Events | union Other", "the 'union' operator"),
    ("Events | mv-expand FileName", "the 'mv-expand' operator"),
    ("Events | project-away FileName", "the 'project-away' operator"),
    ("Events | parse FileName with * '.' Ext", "the 'parse' operator"),
    ("Events | render table", "the 'render' operator"),
    ("Events | evaluate bag_unpack(x)", "the 'evaluate' operator"),
    ("let x = 1; Events", "let statements"),
    ("Events | take 1; Other", "';'"),
    ("search 'x'", "the 'search' operator"),
    ("print 1", "the 'print' operator"),
    ("union kind=outer Events, Other", "union parameters"),
    ("Events | where Port + 1 > 2", "arithmetic"),
    ("Events | where Port > -1", "arithmetic and signed numbers"),
    ("Events | extend P = Port * 2", "arithmetic"),
    ("Events | where Timestamp > now() - 1d", "arithmetic"),
    ("Events | where Timestamp between (ago(1d) .. now())", "the 'between' operator"),
    ("Events | where FileName matches regex 'c.d'", "the 'matches' operator"),
    ("Events | where FileName !between ('a', 'b')", "the '!between' operator"),
    ("Events | where FileName has_any ('a', 'b')", "the 'has_any' operator"),
    ("Events | where FileName <> 'x'", "the '<>' operator"),
    ("Events | where FileName < 'x'", "'<' on string values"),
    ("Events | where extract('x', 0, FileName) == 'x'", "the function extract()"),
    ("Events | where Timestamp > ago(1min)", "the timespan unit 'min'"),
    ("Events | where Timestamp > now(1d)", "now() with an offset"),
    ("Events | where Timestamp > now(-1d)", "arithmetic and signed numbers"),
    ("Events | where isnotempty(FileName) | project *", "'*' in project"),
    ("Events | distinct *", "'*' in distinct"),
    ("Events | project ['FileName']", "bracketed names"),
    ("Events | project tolower(FileName)", "a projected expression without a name"),
    ("Events | extend tolower(FileName)", "extend without a column name"),
    ("Events | summarize count() by tolower(FileName)", "a 'by' expression without a name"),
    ("Events | summarize count(DeviceId)", "count() with an argument"),
    ("Events | summarize avg(Size)", "the aggregation function avg()"),
    ("Events | summarize make_set(DeviceId)", "the aggregation function make_set()"),
    ("Events | order by Port asc nulls last", "nulls first/last"),
    ("Events | take Size", "a row count that is not a whole number literal"),
    ("Events | take 1.5", "a row count that is not a whole number literal"),
    ("Events | where datetime(null) == Timestamp", "datetime(null)"),
    ("Events | where FileName == @x", "'@'"),
    ("Events | where !(Port == 1)", "'!' as an operator"),
    ("Events | where tolower(Port) == 'x'", "tolower() of a int"),
    ("Events | summarize count() by bin(FileName, 1d)", "bin() of string by timespan"),
])
def test_everything_outside_the_subset_is_refused_by_name(query, piece):
    message = refused(query, "unsupported")
    assert piece in message and "Unsupported by the emulator's KQL subset" in message


@pytest.mark.parametrize("query, message", [
    ("", "the query is empty"),
    ("   ", "the query is empty"),
    ("| where Port > 1", "a query starts with a table name"),
    ("Events |", "expected a tabular operator"),
    ("Events | where", "expected a value"),
    ("Events where Port > 1", "unexpected 'where'"),
    ("Events | where FileName = 'x'", "'=' is not a comparison"),
    ("Events | frobnicate", "'frobnicate' is not a tabular operator"),
    ("Events | where (Port > 1", "expected ')'"),
    ("Events | where Port > 1)", "unexpected ')'"),
    ("Events | where Port in 443", "'(' after in"),
    ("Events | top 5", "expected 'by'"),
    ("Events | order Port", "expected 'by'"),
    ("Events | where FileName == 'x' == 'y'", "unexpected '=='"),
    ("Events | where Timestamp > 1x", "'1x' is not a number"),
    ("Events | where Timestamp > datetime(yesterday)", "is not a date and time"),
    ("Events | where FileName !foo 'x'", "'!foo' is not an operator"),
    ("Events | where FileName == 'x' §", "unexpected character"),
    ("Events | summarize", "expected an aggregation function"),
])
def test_syntax_errors_say_where(query, message):
    text = refused(query, "syntax")
    assert message in text
    if query.strip():
        assert "line 1, position" in text


def test_positions_count_lines():
    assert "line 2, position 9" in refused("Events\n| where = 'x'", "syntax")
