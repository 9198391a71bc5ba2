"""Indicators (/api/indicators): submit-or-update by value and type, list, delete, import and delete in batches of 500.

Microsoft Learn, "Import Indicators API" (https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators):
{"Indicators": [...]}, at most 500, 30 calls per minute, a result per indicator. "Batch Delete Indicators"
(https://learn.microsoft.com/en-us/defender-endpoint/api/batch-delete-ti-indicators): {"IndicatorIds": [...]}, at
most 500, 30 calls per minute and 1,500 per hour; 204 when all existed and were deleted, 400 for an empty or too long
list or an invalid id, 404 when any id was not found. There is no per-item result."""

import ipaddress
import re

from .clock import iso, parse_iso
from .errors import ApiError

TYPES = ("FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint", "IpAddress", "DomainName", "Url")
ACTIONS = ("Alert", "Warn", "Block", "Audit", "BlockAndRemediate", "AlertAndBlock", "Allowed")
SEVERITIES = ("Informational", "Low", "Medium", "High")
HEX = {"FileSha1": 40, "FileSha256": 64, "FileMd5": 32, "CertificateThumbprint": 40}
ACTIVE_MAX = 15000
IMPORT_MAX = 500
BATCH_DELETE_MAX = 500
WRITE = ("Ti.ReadWrite", "Ti.ReadWrite.All")
READ = WRITE + ("Ti.Read.All",)
# Microsoft Learn, "List Indicators API" (get-ti-indicators-collection): the properties $filter may name.
FILTERABLE = ("application", "createdByDisplayName", "expirationTime", "generateAlert", "title", "rbacGroupNames",
              "rbacGroupIds", "indicatorValue", "indicatorType", "creationTimeDateTimeUtc", "createdBy", "action",
              "severity")


def _value_error(kind, value):
    if kind in HEX:
        if not re.match(r"^[0-9a-fA-F]{%d}$" % HEX[kind], value):
            return "%s must be %d hexadecimal characters" % (kind, HEX[kind])
    elif kind == "IpAddress":
        if "/" in value:
            return "CIDR ranges are not supported; give single IP addresses"
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return "%r is not an IP address" % value
    elif kind == "Url" and not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        return "%r is not a URL" % value
    elif kind == "DomainName" and not re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", value):
        return "%r is not a domain name" % value
    return None


def validate(body):
    """The checks the service makes; raises ApiError(400) naming the field."""
    for field in ("indicatorValue", "indicatorType", "action", "title", "description"):
        if not body.get(field):
            raise ApiError(400, "MissingRequiredParameter", "%s is required" % field)
    if body["indicatorType"] not in TYPES:
        raise ApiError(400, "InvalidInput", "indicatorType must be one of %s" % ", ".join(TYPES))
    if body["action"] not in ACTIONS:
        raise ApiError(400, "InvalidInput", "action must be one of %s" % ", ".join(ACTIONS))
    if body["action"] == "Audit" and body.get("generateAlert") is not True:
        raise ApiError(400, "InvalidInput", "An Audit indicator needs generateAlert set to true")
    if body.get("severity") and body["severity"] not in SEVERITIES:
        raise ApiError(400, "InvalidInput", "severity must be one of %s" % ", ".join(SEVERITIES))
    if body.get("expirationTime"):
        try:
            parse_iso(body["expirationTime"])
        except ValueError:
            raise ApiError(400, "InvalidInput", "expirationTime must be an ISO 8601 date and time")
    problem = _value_error(body["indicatorType"], str(body["indicatorValue"]))
    if problem:
        raise ApiError(400, "InvalidInput", problem)


class Indicators:
    def __init__(self, clock, settings=None):
        self.clock = clock
        self.settings = settings if settings is not None else {}
        self.items = {}
        self.next_id = 1000

    def _key(self, body):
        return (str(body["indicatorValue"]).lower(), body["indicatorType"])

    def find(self, body):
        key = self._key(body)
        for entity in self.items.values():
            if (entity["indicatorValue"].lower(), entity["indicatorType"]) == key:
                return entity
        return None

    def submit(self, body, app):
        """Create, or update the indicator with the same value and type (the API's submit-or-update)."""
        validate(body)
        now = iso(self.clock.now())
        entity = self.find(body)
        if entity is None:
            if len(self.items) >= ACTIVE_MAX:
                raise ApiError(400, "InvalidInput", "The tenant has reached %d active indicators" % ACTIVE_MAX)
            self.next_id += 1
            entity = {"id": str(self.next_id), "indicatorValue": str(body["indicatorValue"]),
                      "indicatorType": body["indicatorType"], "creationTimeDateTimeUtc": now,
                      "createdBy": app.client_id, "createdBySource": "PublicApi", "source": app.name,
                      "sourceType": "AadApp"}
            self.items[entity["id"]] = entity
        if "application" not in entity:   # set on creation only (Learn: it doesn't update an existing indicator)
            entity["application"] = body.get("application")
        entity.update({
            "action": body["action"], "title": body["title"], "description": body["description"],
            "severity": body.get("severity") or "Informational", "expirationTime": body.get("expirationTime"),
            "recommendedActions": body.get("recommendedActions"), "rbacGroupNames": body.get("rbacGroupNames") or [],
            "generateAlert": bool(body.get("generateAlert")), "lastUpdateTime": now, "lastUpdatedBy": app.client_id})
        return entity

    def delete(self, indicator_id):
        if str(indicator_id) not in self.items:
            raise ApiError(404, "NotFound", "Indicator %s was not found" % indicator_id)
        del self.items[str(indicator_id)]

    def import_(self, items, app):
        if not isinstance(items, list) or not items:
            raise ApiError(400, "MissingRequiredParameter", "Indicators is required")
        if len(items) > IMPORT_MAX:
            raise ApiError(400, "MaximumBatchSizeExceeded", "At most %d indicators in one import, got %d"
                           % (IMPORT_MAX, len(items)))
        out = []
        for item in items:
            try:
                entity = self.submit(item if isinstance(item, dict) else {}, app)
                out.append({"id": entity["id"], "indicator": entity["indicatorValue"], "isFailed": False,
                            "failureReason": None})
            except ApiError as exc:
                out.append({"id": None, "indicator": (item or {}).get("indicatorValue"), "isFailed": True,
                            "failureReason": exc.message})
        return out

    def batch_delete(self, body):
        """Delete the listed indicators, all or none (setting batchdelete_partial: the found ones, then 404)."""
        unknown = sorted(k for k in body if k != "IndicatorIds")
        if "IndicatorIds" not in body:
            hint = " (body parameters are case-sensitive)" if "indicatorids" in {k.lower() for k in body} else ""
            raise ApiError(400, "MissingRequiredParameter", "Parameter IndicatorIds is missing%s" % hint)
        if unknown:
            raise ApiError(400, "InvalidRequestBody", "Request body is incorrect: unknown property %s"
                           % ", ".join(repr(k) for k in unknown))
        ids = body["IndicatorIds"]
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "InvalidInput", "IndicatorIds must be a non-empty list of indicator ids")
        if len(ids) > BATCH_DELETE_MAX:
            raise ApiError(400, "MaximumBatchSizeExceeded", "Maximum batch size exceeded. Received: %d, allowed: %d"
                           % (len(ids), BATCH_DELETE_MAX))
        wanted = []
        for item in ids:
            if isinstance(item, bool) or not isinstance(item, (str, int)) or not re.match(r"^\d+$", str(item)):
                raise ApiError(400, "InvalidInput", "Indicator id %r is invalid" % (item,))
            wanted.append(str(item))
        wanted = list(dict.fromkeys(wanted))
        missing = [i for i in wanted if i not in self.items]
        if missing and not self.settings.get("batchdelete_partial"):
            raise ApiError(404, "NotFound", "Indicators not found: %s" % ", ".join(missing))
        for indicator_id in wanted:
            self.items.pop(indicator_id, None)
        if missing:
            raise ApiError(404, "NotFound", "Indicators not found: %s" % ", ".join(missing))
