# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: advanced hunting, POST /api/advancedqueries/run, for one query or many.

Microsoft Learn, "Advanced hunting API" (https://learn.microsoft.com/defender-endpoint/api/run-advanced-query-api):
body {"Query": "..."}, answer {"Stats", "Schema": [{"Name", "Type"}], "Results": [rows]}; permission
AdvancedQuery.Read.All; data of the last 30 days; at most 100,000 rows and 124 MB a result; 200 seconds a request;
per tenant 45 calls a minute and 1,500 an hour (the "advancedqueries" class of the rate budget), and 10 minutes of
running time an hour and 3 hours a day. A 429 is either quota: its body says which.

The two 429s are handled differently. The call quota refills within a minute or an hour: the client waits for it
as for any 429 (Retry-After, within max_retry_wait, pausing the other tasks' hunting calls too). The running-time
quota refills only as the queries charged to it leave its hour or day: waiting blindly would hold the task for up
to an hour and the same query would spend the quota again, so that 429 fails the query at once (and the ones after
it, unsent) with when it refills and what to do. Each of the API's refusals becomes its own error with its own code
(HUNTING_CODES), saying what to change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import time

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderApiError,
    DefenderError,
    DefenderForbiddenError,
    DefenderInputError,
    DefenderRateLimitError,
    DefenderTransportError,
)
from ansible_collections.secops.defender.plugins.module_utils._hunts import hunt_query
from ansible_collections.secops.defender.plugins.module_utils._retries import parse_retry_after
from ansible_collections.secops.defender.plugins.module_utils._results import ItemKind, ItemRow, finish

PATH = "/api/advancedqueries/run"
MAX_ROWS = 100000
# A query may run 200 s (Learn); its answer then still has to travel. Used unless the task set `timeout` itself.
QUERY_TIMEOUT = 210
FORMATS = ("jsonl", "csv")
QUERIES = ItemKind("index", "query", "failed_queries")
PERMISSION = "AdvancedQuery.Read.All"
HUNTING_CODES = ("HuntingCallQuota", "HuntingCpuQuota", "HuntingTimeout", "HuntingTooManyRows",
                 "HuntingResultTooLarge", "HuntingOldData", "HuntingResourceLimit", "HuntingQueryRejected")
_CPU = re.compile(r"processing resources|cpu|can run queries again", re.IGNORECASE)
_CALLS = re.compile(r"api calls quota|maximum allowed \d+ per", re.IGNORECASE)
_CALL_LIMIT = re.compile(r"maximum allowed (\d+) per ([\d:.]+\d)", re.IGNORECASE)
_AGAIN = re.compile(r"again in ((\d+)\.)?(\d+):(\d+):(\d+)")


def _when(seconds):
    """'in 14 minutes (at 16:42:10 UTC)' for a refill `seconds` from now, or '' when unknown."""
    if seconds is None:
        return ""
    at = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + seconds))
    if seconds < 90:
        span = "%d seconds" % max(1, int(round(seconds)))
    elif seconds < 5400:
        span = "%d minutes" % int(round(seconds / 60.0))
    else:
        span = "%.1f hours" % (seconds / 3600.0)
    return " in %s (at %s)" % (span, at)


def _refill_from_text(message):
    match = _AGAIN.search(message or "")
    if not match:
        return None
    days = int(match.group(2) or 0)
    return days * 86400 + int(match.group(3)) * 3600 + int(match.group(4)) * 60 + int(match.group(5))


class QuotaWatch:
    """The client's give_up_on_429 hook: a running-time (CPU) 429 is given up at once; a call-quota 429 is waited
    for. It keeps the last 429's Retry-After, for the message."""

    def __init__(self):
        self.retry_after = None

    def __call__(self, response):
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            message = ((json.loads(response.content or b"{}") or {}).get("error") or {}).get("message") or ""
        except (ValueError, AttributeError):
            message = ""
        return bool(_CPU.search(message)) and not _CALLS.search(message)


def explain(exc, watch):
    """The API's refusal of a query as its own error, saying what happened and what to do; other errors as they
    are."""
    text = exc.api_message or ""
    kwargs = dict(status=exc.status, api_message=exc.api_message, correlation_id=exc.correlation_id,
                  method=exc.method, path=exc.path)
    if isinstance(exc, DefenderForbiddenError):
        hint = "Add it to the app registration (API permissions, WindowsDefenderATP), grant admin consent, run again."
        return DefenderForbiddenError(
            "Access denied to advanced hunting: the app needs the application permission %s, with admin consent."
            % PERMISSION, code=exc.code, hint=hint, **kwargs)
    if exc.status == 429 or isinstance(exc, DefenderRateLimitError):
        if _CPU.search(text) and not _CALLS.search(text):
            refill = _refill_from_text(text)
            refill = watch.retry_after if refill is None else refill
            return DefenderRateLimitError(
                "The tenant's advanced hunting running-time quota is used up (10 minutes of running time an hour and "
                "3 hours a day, for all of the tenant's queries); it refills%s. The query was not retried." % (
                    _when(refill) or " as earlier queries leave the hour or the day"), code="HuntingCpuQuota",
                hint="Narrow the queries (a shorter lookback, filter on Timestamp and DeviceId early, project only the "
                     "columns you need, summarize) or run fewer of them, and run again after the refill.", **kwargs)
        match = _CALL_LIMIT.search(text)
        which = "45 calls a minute and 1,500 an hour"
        if match:
            which = "%s calls per %s, as the API said" % (match.group(1), match.group(2))
        refill = watch.retry_after
        return DefenderRateLimitError(
            "The tenant's advanced hunting call quota (%s) is used up; it refills%s. %s" % (
                which, _when(refill) or " within the minute or the hour", exc.message),
            code="HuntingCallQuota",
            hint="Raise max_retry_wait to let the task wait for it, or spread the queries out (fewer queries an hour, "
                 "several values in one hunt). Other apps of the tenant share this quota.", **kwargs)
    if exc.status != 400:
        return exc
    lowered = text.lower()
    if "timeout" in lowered or "timed out" in lowered:
        code, message, hint = "HuntingTimeout", "The query ran longer than the API's 200 seconds a request.", (
            "Narrow it: a shorter lookback, filters on Timestamp and DeviceId first, only the columns you need; or "
            "split it into several queries.")
    elif "result size" in lowered:
        code, message, hint = "HuntingResultTooLarge", "The query's result is larger than the API's 124 MB.", (
            "Return fewer rows or columns: project the columns you need, summarize, or take a limit.")
    elif "rows" in lowered and ("100000" in lowered or "100,000" in lowered or "at most" in lowered):
        code, message, hint = "HuntingTooManyRows", "The query returns more than the API's 100,000 rows.", (
            "Summarize, filter more, or take a limit; or split the time range over several queries.")
    elif "30 days" in lowered or "retention" in lowered:
        code, message, hint = "HuntingOldData", "The query reaches further back than the 30 days advanced hunting " \
                                                "keeps.", "Use a time range within the last 30 days, such as " \
                                                          "Timestamp > ago(30d) at most."
    elif "exceeded the allowed limits" in lowered or "resource" in lowered:
        code, message, hint = "HuntingResourceLimit", "The query used more resources than the API allows one " \
                                                      "query.", "Optimize it: filter early, avoid wide joins and " \
                                                                "unbounded summarize, and try again."
    else:
        code, message, hint = "HuntingQueryRejected", "The API refused the query: %s" % (text or "no reason given"), (
            "Fix the KQL (the API's text says where) and run again. Only the advanced hunting tables of Defender "
            "for Endpoint can be queried through this API.")
    return DefenderApiError(message, code=code, hint=hint, **kwargs)


class QueryRow(ItemRow):
    """One query's line in the result."""

    def __init__(self, index, query, hunt=None):
        super(QueryRow, self).__init__()
        self.index = index
        self.query = query
        self.hunt = hunt
        self.answer = None

    def fields(self):
        row = {"index": self.index, "query": self.query, "hunt": self.hunt}
        return row


def planned_queries(params):
    """[(query text, hunt name or None)] of the task, checked before anything is sent."""
    if params.get("hunt"):
        return [(hunt_query(params["hunt"], params.get("hunt_parameters")), params["hunt"])]
    if params.get("hunt_parameters"):
        raise DefenderInputError("hunt_parameters needs hunt: name the shipped hunt they are for.")
    texts = [params["query"]] if params.get("query") is not None else list(params.get("queries") or [])
    if not texts:
        raise DefenderInputError("queries is empty: give at least one query.")
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise DefenderInputError("A query is empty: give the KQL to run, such as DeviceInfo | take 5.")
    return [(text, None) for text in texts]


def run_query(client, text):
    """One query: the API's answer {Stats, Schema, Results}, or the error that says what happened."""
    watch = QuotaWatch()
    try:
        answer = client.request("POST", PATH, body={"Query": text}, idempotent=True, expected=(200,),
                                give_up_on_429=watch)
    except DefenderApiError as exc:
        raise explain(exc, watch)
    if not isinstance(answer, dict) or not isinstance(answer.get("Results"), list) \
            or not isinstance(answer.get("Schema", []), list):
        raise DefenderTransportError("The API answered POST %s with something that is not a query result." % PATH,
                                     method="POST", path=PATH, code="UnexpectedResponse")
    return answer


def run_queries(client, planned, warn=None):
    """Run the queries one after the other; a quota error fails the ones after it unsent (they would fail the
    same way). Returns the QueryRows."""
    rows, stop = [], None
    for index, (text, hunt) in enumerate(planned):
        row = QueryRow(index, text, hunt)
        rows.append(row)
        if stop is not None:
            row.fail(stop)
            continue
        try:
            row.answer = run_query(client, text)
        except DefenderError as exc:
            row.fail(exc)
            if exc.code in ("HuntingCpuQuota", "HuntingCallQuota", "RateBudgetSpent") \
                    or isinstance(exc, DefenderForbiddenError):
                stop = exc
            continue
        count = len(row.answer["Results"])
        if count >= MAX_ROWS and warn is not None:
            warn("Query %d returned %d rows, the API's maximum: the result may be cut. Narrow the query." % (
                index, count))
    return rows


# --- the rows as a file ---------------------------------------------------------------------------------
def columns_of(answer):
    names = [c.get("Name") for c in answer.get("Schema") or [] if isinstance(c, dict) and c.get("Name")]
    if names:
        return names
    seen = []
    for result in answer.get("Results") or []:
        for key in result if isinstance(result, dict) else ():
            if key not in seen:
                seen.append(key)
    return seen


# A text cell a spreadsheet would run as a formula (OWASP, "CSV Injection"): a device's file name or command line
# such as =HYPERLINK(...) is an attacker's text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FORMULAS = ("escape", "keep")


def _cell(value, escape_formulas=True):
    if value is None:
        return ""
    if isinstance(value, str):
        if escape_formulas and value.startswith(FORMULA_STARTS):
            return "'" + value
        return value
    return json.dumps(value, sort_keys=True)


def render(answer, fmt, csv_formulas="escape"):
    """The rows as file content (bytes): JSON Lines (one object a line) or CSV with a header of the columns, each
    text cell that starts like a formula prefixed with ' unless csv_formulas is "keep"."""
    results = answer.get("Results") or []
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results).encode("utf-8")
    columns = columns_of(answer)
    out = io.StringIO()
    # CRLF as RFC 4180 has it: then a value holding a lone CR or LF is quoted too, and cannot split a row
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for result in results:
        writer.writerow([_cell(result.get(c), csv_formulas != "keep") if isinstance(result, dict) else ""
                         for c in columns])
    return out.getvalue().encode("utf-8")


def dest_path(dest, index, many, fmt):
    """The file for query `index`: dest itself for query or hunt; for queries, dest is a folder of query-NNN.fmt."""
    if not many:
        return dest
    return os.path.join(dest, "query-%03d.%s" % (index, fmt))


def write_file(path, content, check_mode):
    """Write content atomically (mode 0600: hunting results are sensitive); True when the file changed."""
    try:
        with open(path, "rb") as handle:
            if handle.read() == content:
                return False
    except (IOError, OSError):
        pass
    if check_mode:
        return True
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DefenderInputError("The folder of dest %s does not exist; create it first." % path)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".hunting-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return True


def hunting_result(client, params, check_mode, warn=None):
    """The module's result for the task's queries."""
    planned = planned_queries(params)
    dest, fmt = params.get("dest"), params.get("format") or "jsonl"
    many = params.get("queries") is not None
    if dest and not many and os.path.isdir(dest):
        raise DefenderInputError("dest %s is a folder; with query or hunt, give the path of the file to write." % dest)
    if dest and many and not os.path.isdir(dest):
        if os.path.exists(dest):
            raise DefenderInputError("With queries, dest must be a folder (one file per query); %s is a file." % dest)
        if not check_mode:
            os.makedirs(dest, 0o700)
    rows = run_queries(client, planned, warn)
    for row in rows:
        if row.answer is None:
            continue
        answer = row.answer
        row.extra.update(schema=answer.get("Schema") or [], columns=columns_of(answer),
                         row_count=len(answer["Results"]), stats=answer.get("Stats") or {})
        if dest:
            path = dest_path(dest, row.index, many, fmt)
            content = render(answer, fmt, params.get("csv_formulas") or "escape")
            try:
                row.changed = write_file(path, content, check_mode)
            except DefenderError as exc:
                row.fail(exc)
                continue
            row.extra.update(dest=path, format=fmt, sha256=hashlib.sha256(content).hexdigest(), size=len(content))
            row.msg = "%s %d rows to %s." % ("Wrote" if row.changed else "Kept (same content)", len(
                answer["Results"]), path)
        else:
            row.extra["results"] = answer["Results"]
            row.msg = "%d rows." % len(answer["Results"])
    dicts = [r.as_dict() for r in rows]
    summary = {"queries": len(dicts), "succeeded": sum(1 for r in dicts if not r["failed"]),
               "failed": sum(1 for r in dicts if r["failed"]), "rows": sum(r.get("row_count", 0) for r in dicts)}
    single = not many
    return finish(dicts, QUERIES, summary, single=single,
                  top_keys=("query", "schema", "columns", "row_count", "dest", "sha256"),
                  fail_on_error=params.get("fail_on_query_error", True), client=client)
