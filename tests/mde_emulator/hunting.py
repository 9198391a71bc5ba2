"""Advanced hunting: POST /api/advancedqueries/run, its quotas and its errors.

Microsoft Learn, "Advanced hunting API" (learn.microsoft.com/defender-endpoint/api/run-advanced-query-api):
- permission AdvancedQuery.Read.All (application) or AdvancedQuery.Read (delegated); body {"Query": "..."}
  (body parameters are case-sensitive, "Handling REST API errors", learn.microsoft.com/defender-endpoint/api/
  common-errors);
- the answer is a QueryResponse: Stats, Schema ([{"Name", "Type"}]) and Results (rows), as "Microsoft Defender XDR
  advanced hunting API" (learn.microsoft.com/defender-xdr/api-advanced-hunting) shows it in full;
- data from the last 30 days only; at most 100,000 rows; at most 124 MB of results, else 400 "Query execution has
  exceeded the allowed result size. Optimize your query by limiting the number of results and try again";
- 45 calls a minute and 1,500 an hour per tenant, and 10 minutes of running time an hour and 3 hours a day; a
  single request runs at most 200 seconds; a 429 says in its body which quota was reached.

The emulator's answers:
- a call-rate 429 (the tenant-wide "advancedqueries" rate class, settings `rate_limits`) is
  `{"error": {"code": "TooManyRequests", "message": "API calls quota exceeded! maximum allowed 45 per 00:01:00"}}`,
  the service's own text (as reported to Microsoft in MicrosoftDocs issue 4616), with Retry-After;
- a CPU-quota 429 is `{"error": {"code": "TooManyRequests", "message": "You have exceeded processing resources
  allocated to this tenant. You can run queries again in 00:14:10."}}`, the text of Learn's "Handle advanced hunting
  errors" (learn.microsoft.com/defender-xdr/advanced-hunting-errors), with Retry-After when the quota has room
  again. Running time is charged on the emulator's clock: each query costs `hunting_query_seconds`, and
  `hunting_cpu_quota` is `[[running seconds, window seconds], ...]` (default 600 per 3600 and 10800 per 86400);
- a query whose `hunting_query_seconds` is over `hunting_timeout_seconds` (200) is a 400 "Query exceeded the
  timeout period." (that error page's text) and is charged the timeout;
- more rows than `hunting_max_rows` is a 400 (`hunting_row_overflow: truncate` cuts the result instead, as Learn's
  "a maximum of 100,000 rows" may mean), more than `hunting_max_result_bytes` of results the documented 400;
- a query that names a time older than 30 days (ago(31d), datetime(...)) is a 400 (`hunting_old_range: clip`
  answers from the 30 days kept instead, silently, as the service may);
- syntax errors, semantic errors (an unknown table or column, mismatched types) and anything outside the
  emulator's KQL subset (kql.py) are 400 BadRequest whose message says which and names the piece.
"""

import json
import math

from . import kql
from .clock import iso
from .entities import require
from .errors import ApiError, json_response
from .events import RETENTION_SECONDS, TABLES, EventStore

RATE_CLASS = "advancedqueries"
TENANT_WIDE_CLASSES = (RATE_CLASS,)   # Learn's hunting limits are per tenant, not per app
PERMISSIONS = ("AdvancedQuery.Read.All", "AdvancedQuery.Read")
RESULT_SIZE_MESSAGE = ("Query execution has exceeded the allowed result size. Optimize your query by limiting the "
                       "number of results and try again")
CPU_MESSAGE = "You have exceeded processing resources allocated to this tenant. You can run queries again in %s."
TIMEOUT_MESSAGE = ("Query exceeded the timeout period. Optimize the query (filter early, project only the columns "
                   "you need) and try again.")


def hms(seconds):
    seconds = int(math.ceil(seconds))
    days, rest = divmod(seconds, 86400)
    text = "%02d:%02d:%02d" % (rest // 3600, rest % 3600 // 60, rest % 60)
    return "%d.%s" % (days, text) if days else text


def _cpu_span(seconds):
    ticks = int(round(seconds * 10 ** 7))
    whole, fraction = divmod(ticks, 10 ** 7)
    return "%02d:%02d:%02d.%07d" % (whole // 3600, whole % 3600 // 60, whole % 60, fraction)


def call_quota_error(wait, calls, window):
    """The call-rate 429 of the advancedqueries class."""
    return ApiError(429, "TooManyRequests", "API calls quota exceeded! maximum allowed %d per %s"
                    % (calls, hms(window)), headers={"Retry-After": str(wait)})


def received_query(request):
    """The Query text of an advanced hunting request exactly as it arrived, for the request log (None when the
    body is not a JSON object with a string Query)."""
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("Query"), str):
        return body["Query"]
    return None


def _json_value(value, type_):
    if value is None:
        return None
    if type_ == "datetime":
        return iso(value)
    if type_ == "timespan":
        return kql.fmt_timespan(value)
    return value


class Hunting:
    """The tenant's hunting: its event tables and its running-time ledger."""

    def __init__(self, emulator):
        self.emu = emulator
        self.tenant = emulator.tenant
        self.events = EventStore(self.tenant)
        self.ledger = []        # (emulated time, running seconds charged)
        self.queries = 0

    @property
    def settings(self):
        return self.tenant.settings

    # --- the running-time quota ----------------------------------------------------------------------
    def cpu_used(self, now=None):
        """{window seconds: running seconds charged within it}."""
        now = self.tenant.clock.now() if now is None else now
        return {int(window): sum(c for t, c in self.ledger if t > now - window)
                for _quota, window in self.settings["hunting_cpu_quota"]}

    def _check_cpu(self, now):
        wait = 0.0
        for quota, window in self.settings["hunting_cpu_quota"]:
            entries = sorted((t, c) for t, c in self.ledger if t > now - window)
            used = sum(c for _t, c in entries)
            if used < quota:
                continue
            freed, until = 0.0, window
            for when, cost in entries:
                freed += cost
                if used - freed < quota:
                    until = when + window - now
                    break
            wait = max(wait, until)
        if wait > 0:
            speed = self.tenant.clock.speed
            retry = int(math.ceil(wait / speed)) if speed > 0 else int(math.ceil(wait))
            raise ApiError(429, "TooManyRequests", CPU_MESSAGE % hms(wait), headers={"Retry-After": str(max(1, retry))})

    def _charge(self, now, seconds):
        self.ledger.append((now, seconds))
        longest = max([w for _q, w in self.settings["hunting_cpu_quota"]] or [0])
        self.ledger = [(t, c) for t, c in self.ledger if t > now - longest]

    def reset(self):
        self.ledger = []

    # --- the endpoint ----------------------------------------------------------------------------------
    def run(self, request, app):
        require(app, PERMISSIONS)
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise ApiError(400, "InvalidRequestBody", "The request body is not valid JSON")
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequestBody", "The request body must be a JSON object: {\"Query\": \"...\"}")
        query = body.get("Query")
        if query is None:
            other = [k for k in body if k.lower() == "query"]
            hint = " (body parameters are case-sensitive: %s is not Query)" % other[0] if other else ""
            raise ApiError(400, "MissingRequiredParameter", "Parameter Query is missing%s" % hint)
        if not isinstance(query, str):
            raise ApiError(400, "InvalidRequestBody", "Query must be a string")
        if not query.strip():
            raise ApiError(400, "MissingRequiredParameter", "Parameter Query is empty")
        now = self.tenant.clock.now()
        self._check_cpu(now)
        schemas = dict(TABLES)
        try:
            plan = kql.compile_query(query, schemas, now)
        except kql.KqlError as exc:
            raise ApiError(400, "BadRequest", str(exc))
        oldest = now - RETENTION_SECONDS
        if plan.earliest is not None and plan.earliest < oldest and self.settings["hunting_old_range"] == "error":
            raise ApiError(400, "BadRequest", "The query reaches back to %s, but advanced hunting keeps only the last "
                           "30 days of data (since %s); query a range within 30 days" % (iso(plan.earliest),
                                                                                         iso(oldest)))
        seconds = float(self.settings["hunting_query_seconds"])
        timeout = float(self.settings["hunting_timeout_seconds"])
        self.queries += 1
        if seconds > timeout:
            self._charge(now, timeout)
            raise ApiError(400, "BadRequest", TIMEOUT_MESSAGE)
        rows = plan.run(self.events.tables(now))
        self._charge(now, seconds)
        limit = int(self.settings["hunting_max_rows"])
        if len(rows) > limit:
            if self.settings["hunting_row_overflow"] == "error":
                raise ApiError(400, "BadRequest", "The query returned %d rows; advanced hunting returns at most %d. "
                               "Limit the results (where, summarize, take) and try again" % (len(rows), limit))
            rows = rows[:limit]
        types = dict(plan.schema)
        results = [{c: _json_value(row[c], types[c]) for c, _t in plan.schema} for row in rows]
        size = len(json.dumps(results).encode())
        if size > int(self.settings["hunting_max_result_bytes"]):
            raise ApiError(400, "BadRequest", RESULT_SIZE_MESSAGE)
        cpu = _cpu_span(seconds)
        stats = {
            "ExecutionTime": seconds,
            "resource_usage": {
                "cache": {"memory": {"hits": 0, "misses": 0, "total": 0}, "disk": {"hits": 0, "misses": 0, "total": 0}},
                "cpu": {"user": cpu, "kernel": "00:00:00", "total cpu": cpu},
                "memory": {"peak_per_node": 1048576 + size},
            },
            "dataset_statistics": [{"table_row_count": len(results), "table_size": size}],
        }
        return json_response({"Stats": stats, "Schema": kql.schema_json(plan.schema), "Results": results})
