"""The Defender API routes: machines, machine actions, live response, library."""

import hashlib
import hmac
import json
import re
from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from .clock import parse_iso
from . import alerts, entities, hunting, indicators, investigations
from .errors import ApiError, json_response
from .odata import FilterError, compile_filter
from .state import SHA1

READ = ("Machine.Read.All", "Machine.ReadWrite.All")
# The documented filterable properties (Learn: api/get-machineactions-collection, api/get-machines): anything
# else is 400 ODataError.
# Microsoft Learn, "List machines API": the properties $filter is supported on.
MACHINE_FILTERS = ("computerDnsName", "id", "version", "deviceValue", "aadDeviceId", "machineTags", "lastSeen",
                   "exposureLevel", "onboardingStatus", "lastIpAddress", "healthStatus", "osPlatform", "riskScore",
                   "rbacGroupId")
ACTION_FILTERS = ("id", "status", "machineId", "type", "requestor", "creationDateTimeUtc")
LIBRARY_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# findbyip looks back at most this long, and matches devices seen within this window of the timestamp.
FINDBYIP_MAX_AGE = 30 * 86400
FINDBYIP_WINDOW = 15 * 60
WRITE = ("Machine.ReadWrite.All",)
TAG_BATCH_MAX = 500
ACTION_PERMISSIONS = {
    "runliveresponse": ("LiveResponse", ("Machine.LiveResponse",)),
    "stopandquarantinefile": ("StopAndQuarantineFile", ("Machine.StopAndQuarantine",)),
    "isolate": ("Isolate", ("Machine.Isolate",)),
    "unisolate": ("Unisolate", ("Machine.Isolate",)),
    "restrictcodeexecution": ("RestrictCodeExecution", ("Machine.RestrictExecution",)),
    "unrestrictcodeexecution": ("UnrestrictCodeExecution", ("Machine.RestrictExecution",)),
    "runantivirusscan": ("RunAntiVirusScan", ("Machine.Scan",)),
    "collectinvestigationpackage": ("CollectInvestigationPackage", ("Machine.CollectForensics",)),
    "offboard": ("Offboard", ("Machine.Offboard",)),
}
ANY_ACTION = tuple(sorted({p for spec in ACTION_PERMISSIONS.values() for p in spec[1]}))
TITLES = {
    "LiveResponse": "Live response",
    "StopAndQuarantineFile": "Stop and quarantine file",
    "Isolate": "Isolate device",
    "Unisolate": "Release device from isolation",
    "RestrictCodeExecution": "Restrict app execution",
    "UnrestrictCodeExecution": "Remove app restriction",
    "RunAntiVirusScan": "Run antivirus scan",
    "CollectInvestigationPackage": "Collect investigation package",
    "Offboard": "Offboard machine",
}
# Platform gates (Learn: api/isolate-machine, api/restrict-code-execution, api/run-av-scan): full isolation on
# Windows 10/11 and Linux; selective isolation, restricting code execution and scans on Windows 10/11 only.
FULL_ISOLATION_PLATFORMS = ("Windows10", "Windows11", "Linux")
WINDOWS_CLIENT_PLATFORMS = ("Windows10", "Windows11")


def _check_platform(action_type, scope, machine):
    full = action_type in ("Isolate", "Unisolate") and scope in (None, "Full")
    allowed = FULL_ISOLATION_PLATFORMS if full else WINDOWS_CLIENT_PLATFORMS
    if machine.os_platform not in allowed:
        what = "%s (%s)" % (action_type, scope) if scope else action_type
        raise ApiError(400, "OsPlatformNotSupported", "%s is not supported on %s" % (what, machine.os_platform))


def _tag_body(body):
    value, action = body.get("Value"), body.get("Action")
    if not value or not isinstance(value, str):
        raise ApiError(400, "MissingRequiredParameter", "Value is required")
    if action not in ("Add", "Remove"):
        raise ApiError(400, "InvalidInput", "Action must be Add or Remove")
    return value, action


def _apply_tag(machine, value, action):
    tags = machine.entity.setdefault("machineTags", [])
    if action == "Add" and value not in tags:
        tags.append(value)
    elif action == "Remove" and value in tags:
        tags.remove(value)


def _require_comment(comment):
    if not comment:
        raise ApiError(400, "MissingRequiredParameter", "Comment is required")


PAIRED = {"Isolate": ("Isolate", "Unisolate"), "Unisolate": ("Isolate", "Unisolate"),
          "RestrictCodeExecution": ("RestrictCodeExecution", "UnrestrictCodeExecution"),
          "UnrestrictCodeExecution": ("RestrictCodeExecution", "UnrestrictCodeExecution")}

URL_MAP = Map([
    Rule("/api/machines", methods=["GET"], endpoint="list_machines"),
    Rule("/api/machines/findbytag", methods=["GET"], endpoint="find_by_tag"),
    Rule("/api/machines/<key>", methods=["GET"], endpoint="get_machine"),
    Rule("/api/machines/AddOrRemoveTagForMultipleMachines", methods=["POST"], endpoint="tag_many"),
    Rule("/api/machines/<machine_id>/tags", methods=["POST"], endpoint="tag_one"),
    Rule("/api/machines/<machine_id>/startInvestigation", methods=["POST"], endpoint="start_investigation"),
    Rule("/api/machines/<machine_id>/<verb>", methods=["POST"], endpoint="machine_action"),
    Rule("/api/machineactions", methods=["GET"], endpoint="list_actions"),
    Rule("/api/machineactions/<action_id>", methods=["GET"], endpoint="get_action"),
    Rule("/api/machineactions/<action_id>/cancel", methods=["POST"], endpoint="cancel"),
    Rule("/api/machineactions/<action_id>/<function>", methods=["GET"], endpoint="action_function"),
    Rule("/api/alerts", methods=["GET"], endpoint="list_alerts"),
    Rule("/api/alerts/batchUpdate", methods=["POST"], endpoint="batch_update_alerts"),
    Rule("/api/alerts/<alert_id>", methods=["PATCH"], endpoint="update_alert"),
    Rule("/api/investigations", methods=["GET"], endpoint="list_investigations"),
    Rule("/api/investigations/<investigation_id>", methods=["GET"], endpoint="get_investigation"),
    Rule("/api/indicators", methods=["GET"], endpoint="list_indicators"),
    Rule("/api/indicators", methods=["POST"], endpoint="submit_indicator"),
    Rule("/api/indicators/import", methods=["POST"], endpoint="import_indicators"),
    Rule("/api/indicators/BatchDelete", methods=["POST"], endpoint="batch_delete_indicators"),
    Rule("/api/indicators/<indicator_id>", methods=["DELETE"], endpoint="delete_indicator"),
    Rule("/api/libraryfiles", methods=["GET"], endpoint="list_library"),
    Rule("/api/libraryfiles", methods=["POST"], endpoint="upload_library"),
    Rule("/api/libraryfiles/<name>", methods=["DELETE"], endpoint="delete_library"),
    # Advanced hunting and entity pivots: hunting.py, entities.py.
    Rule("/api/advancedqueries/run", methods=["POST"], endpoint="advanced_query"),
    Rule("/api/files/<file_id>", methods=["GET"], endpoint="entity", defaults={"route": "file_info"}),
    Rule("/api/files/<file_id>/stats", methods=["GET"], endpoint="entity", defaults={"route": "file_stats"}),
    Rule("/api/files/<file_id>/machines", methods=["GET"], endpoint="entity", defaults={"route": "file_machines"}),
    Rule("/api/files/<file_id>/alerts", methods=["GET"], endpoint="entity", defaults={"route": "file_alerts"}),
    Rule("/api/ips/<ip>/stats", methods=["GET"], endpoint="entity", defaults={"route": "ip_stats"}),
    Rule("/api/ips/<ip>/alerts", methods=["GET"], endpoint="entity", defaults={"route": "ip_alerts"}),
    Rule("/api/domains/<domain>/stats", methods=["GET"], endpoint="entity", defaults={"route": "domain_stats"}),
    Rule("/api/domains/<domain>/machines", methods=["GET"], endpoint="entity", defaults={"route": "domain_machines"}),
    Rule("/api/domains/<domain>/alerts", methods=["GET"], endpoint="entity", defaults={"route": "domain_alerts"}),
    Rule("/api/users/<user_id>/machines", methods=["GET"], endpoint="entity", defaults={"route": "user_machines"}),
    Rule("/api/users/<user_id>/alerts", methods=["GET"], endpoint="entity", defaults={"route": "user_alerts"}),
    Rule("/api/machines/<machine_id>/logonusers", methods=["GET"], endpoint="entity",
         defaults={"route": "logon_users"}),
    Rule("/api/machines/<machine_id>/alerts", methods=["GET"], endpoint="entity",
         defaults={"route": "machine_alerts"}),
    Rule("/api/alerts/<alert_id>", methods=["GET"], endpoint="entity", defaults={"route": "get_alert"}),
    Rule("/api/alerts/<alert_id>/files", methods=["GET"], endpoint="entity", defaults={"route": "alert_files"}),
    Rule("/api/alerts/<alert_id>/ips", methods=["GET"], endpoint="entity", defaults={"route": "alert_ips"}),
    Rule("/api/alerts/<alert_id>/domains", methods=["GET"], endpoint="entity", defaults={"route": "alert_domains"}),
    Rule("/api/alerts/<alert_id>/user", methods=["GET"], endpoint="entity", defaults={"route": "alert_user"}),
    Rule("/api/alerts/<alert_id>/machine", methods=["GET"], endpoint="entity", defaults={"route": "alert_machine"}),
], strict_slashes=False)


def rate_class(path, method="GET"):
    lowered = path.lower().rstrip("/")
    if lowered.endswith("/runliveresponse"):
        return "runliveresponse"
    if lowered.endswith("/getpackageuri"):
        return "getpackageuri"
    # Microsoft Learn's per-API limits: "Update alert", "Batch update alerts", "Start Investigation API",
    # "Import Indicators API", "Batch Delete Indicators".
    if lowered == "/api/alerts/batchupdate":
        return "alertbatchupdate"
    if method.upper() == "PATCH" and re.match(r"^/api/alerts/[^/]+$", lowered):
        return "alertupdate"
    if re.match(r"^/api/machines/[^/]+/startinvestigation$", lowered):
        return "startinvestigation"
    if lowered == "/api/indicators/import":
        return "indicatorimport"
    if lowered == "/api/indicators/batchdelete":
        return "indicatorbatchdelete"
    if lowered.startswith("/api/advancedqueries/"):
        return hunting.RATE_CLASS
    return entities.rate_class(lowered, method) or "default"


def _require(app, roles):
    if not set(app.roles) & set(roles):
        raise ApiError(403, "Forbidden", "The application does not have any of the required application "
                                         "permissions (%s) to access the resource." % ", ".join(roles))


def _json_body(request):
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise ApiError(400, "InvalidRequestBody", "The request body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidRequestBody", "The request body must be a JSON object")
    return body


def _seen_around(entity, when):
    """Whether the device was reporting within FINDBYIP_WINDOW of `when` (between its first and last sighting)."""
    first = parse_iso(entity["firstSeen"]) if entity.get("firstSeen") else when
    return first - FINDBYIP_WINDOW <= when <= parse_iso(entity["lastSeen"]) + FINDBYIP_WINDOW


def _bool(value):
    return str(value).strip().lower() in ("true", "1", "yes")


class Api:
    def __init__(self, emulator):
        self.emu = emulator
        self.tenant = emulator.tenant
        self.hunting = hunting.Hunting(emulator)
        self.entities = entities.Entities(emulator, self.hunting.events)

    def handle(self, request, app, path):
        adapter = URL_MAP.bind("api", path_info=path)
        try:
            endpoint, args = adapter.match(method=request.method)
        except Exception:  # werkzeug's NotFound / MethodNotAllowed
            raise ApiError(404, "NotFound", "No API matches %s %s" % (request.method, path))
        with self.tenant.lock:
            return getattr(self, endpoint)(request, app, **args)

    # --- paging ------------------------------------------------------------------------------
    def _page(self, request, items, path, filterable=None, empty_404=False):
        try:
            pred = compile_filter(request.args.get("$filter"), filterable)
        except FilterError as exc:
            raise ApiError(400, "ODataError", str(exc))
        selected = [e for e in items if pred(e)]
        if empty_404 and not selected:
            raise ApiError(404, "ResourceNotFound", "No machines found")
        if request.args.get("$orderby"):  # not documented: refused, so no test can come to rely on it
            raise ApiError(400, "ODataError", "The query parameter $orderby is not supported")
        try:
            top = int(request.args.get("$top", 10000))
            skip = int(request.args.get("$skip", 0))
        except ValueError:
            raise ApiError(400, "ODataError", "$top and $skip must be whole numbers")
        if top < 0 or top > 10000 or skip < 0:
            raise ApiError(400, "ODataError", "$top must be between 0 and 10000")
        page_size = min(top, int(self.tenant.settings["page_size"]))
        page = selected[skip:skip + page_size]
        body = {"@odata.context": "%s/api/$metadata#%s" % (self.emu.api_url, path.rsplit("/", 1)[-1]),
                "value": page}
        remaining_top = top - len(page)
        if skip + len(page) < len(selected) and remaining_top > 0 and page:
            args = dict(request.args)
            if not self.tenant.settings["nextlink_repeats"]:  # else: the reported bug, a link to this very page
                args["$top"] = str(remaining_top)
                args["$skip"] = str(skip + len(page))
            body["@odata.nextLink"] = "%s%s?%s" % (self.emu.api_url, path, urlencode(args))
        return json_response(body)

    # --- machines ----------------------------------------------------------------------------
    def list_machines(self, request, app):
        _require(app, READ)
        return self._page(request, [m.entity for m in self.tenant.machines.values()], "/api/machines",
                          MACHINE_FILTERS, empty_404=self.tenant.settings["empty_machines_404"])

    def find_by_tag(self, request, app):
        _require(app, READ)
        tag = request.args.get("tag")
        if not tag:
            raise ApiError(400, "MissingRequiredParameter", "tag is required")
        starts = _bool(request.args.get("useStartsWithFilter", "false"))
        found = [m.entity for m in self.tenant.machines.values()
                 if any((t.lower().startswith(tag.lower()) if starts else t.lower() == tag.lower())
                        for t in m.entity["machineTags"])]
        return json_response({"value": found})

    def get_machine(self, request, app, key):
        _require(app, READ)
        match = re.match(r"^findbyip\(ip='([^']+)',timestamp=([^)]+)\)$", key, re.IGNORECASE)
        if match:
            try:
                when = parse_iso(match.group(2))
            except ValueError:
                raise ApiError(400, "InvalidInput", "timestamp must be an ISO 8601 date and time")
            now = self.tenant.clock.now()
            if when < now - FINDBYIP_MAX_AGE or when > now + FINDBYIP_WINDOW:
                raise ApiError(400, "InvalidInput", "timestamp must be within the last 30 days")
            ip = match.group(1)
            found = [m.entity for m in self.tenant.machines.values()
                     if any(a["ipAddress"] == ip for a in m.entity["ipAddresses"])
                     and _seen_around(m.entity, when)]
            return json_response({"value": found})
        return json_response(self.tenant.find_machine(key).entity)

    # --- tags --------------------------------------------------------------------------------
    def tag_one(self, request, app, machine_id):
        _require(app, WRITE)
        value, action = _tag_body(_json_body(request))
        machine = self.tenant.find_machine(machine_id)
        _apply_tag(machine, value, action)
        return json_response(machine.entity)

    def tag_many(self, request, app):
        _require(app, WRITE)
        body = _json_body(request)
        value, action = _tag_body(body)
        ids = body.get("MachineIds")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "MissingRequiredParameter", "MachineIds is required")
        if len(ids) > TAG_BATCH_MAX:
            raise ApiError(400, "MaximumBatchSizeExceeded", "At most %d machine ids in one request, got %d"
                           % (TAG_BATCH_MAX, len(ids)))
        machines = [self.tenant.find_machine(str(i)) for i in ids]  # all or nothing: an unknown id is a 404
        for machine in machines:
            _apply_tag(machine, value, action)
        return json_response({"value": [m.entity for m in machines]})

    # --- actions -----------------------------------------------------------------------------
    def machine_action(self, request, app, machine_id, verb):
        if verb.lower() == "startinvestigation":  # the path's case is not significant
            return self.start_investigation(request, app, machine_id)
        spec = ACTION_PERMISSIONS.get(verb.lower())
        if spec is None:
            raise ApiError(404, "NotFound", "No API matches POST %s" % request.path)
        action_type, roles = spec
        _require(app, roles)
        body = _json_body(request)
        machine = self.tenant.find_machine(machine_id)
        comment = body.get("Comment")
        extra = {"title": TITLES[action_type]}
        status = 201
        if action_type == "LiveResponse":
            if not comment:
                raise ApiError(400, "MissingRequiredParameter", "Comment is required")
            self.tenant.validate_commands(body.get("Commands"))
            if self.tenant.active_live_response(machine):
                raise ApiError(400, "ActiveRequestAlreadyExists",
                               "There is already an active live response request on machine %s" % machine.id)
            active = self.tenant.active_live_response()
            if len(active) >= int(self.tenant.settings["session_cap"]):
                raise ApiError(429, "TooManyRequests",
                               "The tenant has reached its limit of %d concurrent live response sessions"
                               % self.tenant.settings["session_cap"], headers={"Retry-After": "30"})
            extra["commands"] = [{"type": c["type"], "params": c.get("params", [])} for c in body["Commands"]]
            status = int(self.tenant.settings["liveresponse_status"])
        elif action_type == "StopAndQuarantineFile":
            if not comment:
                raise ApiError(400, "MissingRequiredParameter", "Comment is required")
            sha1 = body.get("Sha1")
            if not sha1:
                raise ApiError(400, "MissingRequiredParameter", "Sha1 is required")
            if not isinstance(sha1, str) or not SHA1.match(sha1):
                raise ApiError(400, "InvalidHashValue", "Sha1 %r is not a valid SHA-1 hash" % (sha1,))
            if machine.os_platform not in ("Windows10", "Windows11"):
                raise ApiError(400, "OsPlatformNotSupported", "StopAndQuarantineFile is not supported on %s; "
                               "it needs Windows 10 version 1703 or later, or Windows 11" % machine.os_platform)
            extra["relatedFileInfo"] = {"fileIdentifier": sha1.lower(), "fileIdentifierType": "Sha1"}
        elif action_type in PAIRED:
            _require_comment(comment)
            scope = None
            if action_type == "Isolate":
                scope = body.get("IsolationType", "Full")
                if scope not in ("Full", "Selective", "UnManagedDevice"):
                    raise ApiError(400, "InvalidInput", "IsolationType must be Full, Selective or UnManagedDevice")
                extra["scope"] = scope
            _check_platform(action_type, scope, machine)
            self.tenant.check_no_pending(machine, PAIRED[action_type])
        elif action_type == "RunAntiVirusScan":
            _require_comment(comment)
            scan = body.get("ScanType")
            if not scan:
                raise ApiError(400, "MissingRequiredParameter", "ScanType is required")
            if scan not in ("Quick", "Full"):
                raise ApiError(400, "InvalidInput", "ScanType must be Quick or Full")
            _check_platform(action_type, scan, machine)
            self.tenant.check_no_pending(machine, ("RunAntiVirusScan",))
            extra["scope"] = scan
        elif action_type == "CollectInvestigationPackage":
            _require_comment(comment)
            self.tenant.check_no_pending(machine, ("CollectInvestigationPackage",))
        elif action_type == "Offboard":
            _require_comment(comment)
            if not machine.os_platform.startswith("Windows"):
                raise ApiError(400, "OsPlatformNotSupported", "Offboard is not supported on %s; it is for Windows "
                                                              "devices only" % machine.os_platform)
            self.tenant.check_no_pending(machine, ("Offboard",))
            status = int(self.tenant.settings["offboard_status"])
        if body.get("ExternalID") or body.get("externalID"):  # the caller's own correlation id, echoed
            extra["externalID"] = str(body.get("ExternalID") or body.get("externalID"))[:200]
        action = self.tenant.submit(action_type, machine, app, comment, **extra)
        return json_response(action.entity(self.tenant.settings), status=status)

    def list_actions(self, request, app):
        _require(app, READ)
        entities = [a.entity(self.tenant.settings) for a in self.tenant.all_actions()]
        for entity in entities:  # filter on either spelling of the last-update field
            entity.pop("commands", None)
        return self._page(request, entities, "/api/machineactions", ACTION_FILTERS)

    def get_action(self, request, app, action_id):
        _require(app, READ)
        return json_response(self.tenant.get_action(action_id).entity(self.tenant.settings))

    def cancel(self, request, app, action_id):
        _require(app, ANY_ACTION)
        body = _json_body(request)
        action = self.tenant.get_action(action_id)
        self.tenant.cancel_action(action, app, body.get("Comment"))
        return json_response(action.entity(self.tenant.settings))

    def action_function(self, request, app, action_id, function):
        match = re.match(r"^GetLiveResponseResultDownloadLink\(index=(\d+)\)$", function, re.IGNORECASE)
        if match:
            _require(app, READ)  # the documented permission: not the action's own
            action = self.tenant.get_action(action_id)
            index = int(match.group(1))
            self.tenant.command_result(action, index)  # raises when there is nothing to serve
            return json_response({"value": self.emu.blob_link("liveresponse/%s/%d" % (action.id, index))})
        if function.lower() == "getpackageuri":
            _require(app, READ)
            action = self.tenant.get_action(action_id)
            if action.type != "CollectInvestigationPackage" or action.status != "Succeeded":
                raise ApiError(404, "ResourceNotFound", "No package is available for action %s" % action_id)
            link = self.emu.package_link(action.id)
            if self.tenant.settings["package_uri_quoted"]:  # the documented answer: the URL in literal quotes
                link = '"%s"' % link
            return json_response({"value": link})
        raise ApiError(404, "NotFound", "No API matches GET %s" % request.path)

    # --- alerts ------------------------------------------------------------------------------
    def list_alerts(self, request, app):
        _require(app, alerts.READ)
        text = request.args.get("$filter") or ""
        for token in re.findall(r"\b([A-Za-z]+)\s+(?:eq|ne|gt|ge|lt|le)\b", text):
            if token not in alerts.FILTERABLE:
                raise ApiError(400, "ODataError", "Alerts cannot be filtered on %s" % token)
        expand = (request.args.get("$expand") or "").lower() == "evidence"
        return self._page(request, self.tenant.alerts.listed(expand), "/api/alerts")

    def update_alert(self, request, app, alert_id):
        _require(app, alerts.WRITE)
        return json_response(self.tenant.alerts.patch(alert_id, _json_body(request), app))

    def batch_update_alerts(self, request, app):
        _require(app, alerts.WRITE)
        self.tenant.alerts.batch_update(_json_body(request), app)
        return Response(b"", status=200)  # Learn: 200 OK with an empty body

    # --- investigations ----------------------------------------------------------------------
    def start_investigation(self, request, app, machine_id):
        _require(app, investigations.WRITE)
        body = _json_body(request)
        machine = self.tenant.find_machine(machine_id)
        inv = self.tenant.investigations.start(self.tenant, machine, app, body)
        return json_response(inv.entity(), status=201)

    def list_investigations(self, request, app):
        _require(app, investigations.READ)
        return self._page(request, self.tenant.investigations.listed(), "/api/investigations",
                          investigations.FILTERABLE)

    def get_investigation(self, request, app, investigation_id):
        _require(app, investigations.READ)
        return json_response(self.tenant.investigations.find(investigation_id).entity())

    # --- indicators --------------------------------------------------------------------------
    def list_indicators(self, request, app):
        _require(app, indicators.READ)
        return self._page(request, [dict(e) for e in self.tenant.indicators.items.values()], "/api/indicators",
                          indicators.FILTERABLE)

    def submit_indicator(self, request, app):
        _require(app, indicators.WRITE)
        return json_response(self.tenant.indicators.submit(_json_body(request), app))

    def import_indicators(self, request, app):
        _require(app, indicators.WRITE)
        return json_response({"value": self.tenant.indicators.import_(_json_body(request).get("Indicators"), app)})

    def batch_delete_indicators(self, request, app):
        _require(app, indicators.WRITE)
        self.tenant.indicators.batch_delete(_json_body(request))
        return json_response(None, status=204)

    def delete_indicator(self, request, app, indicator_id):
        _require(app, indicators.WRITE)
        self.tenant.indicators.delete(indicator_id)
        return json_response(None, status=204)

    # --- advanced hunting and entities ----------------------------------------------------------
    def advanced_query(self, request, app):
        return self.hunting.run(request, app)

    def entity(self, request, app, route, **args):
        return self.entities.handle(route, request, app, **args)

    # --- library -----------------------------------------------------------------------------
    def list_library(self, request, app):
        _require(app, ("Library.Manage",))
        # Learn, "List library files": the collection with its @odata.context.
        return json_response({"@odata.context": "%s/api/$metadata#LibraryFiles" % self.emu.api_url,
                              "value": [self.tenant.library_entity(n) for n in sorted(self.tenant.library)]})

    def upload_library(self, request, app):
        _require(app, ("Library.Manage",))
        if request.content_length and request.content_length > self.tenant.settings["max_upload_bytes"] + 65536:
            raise ApiError(400, "InvalidInput", "The file is larger than the 20 MB library limit")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(400, "MissingRequiredParameter", "A file is required (multipart field 'file')")
        data = upload.read()
        if len(data) > self.tenant.settings["max_upload_bytes"]:
            raise ApiError(400, "InvalidInput", "The file is larger than the 20 MB library limit")
        name = upload.filename
        if not LIBRARY_NAME.match(name) or not name.strip("."):
            raise ApiError(400, "InvalidInput", "The file name %r is not allowed: use letters, digits, '-', '_' and "
                                                "'.' only" % name)
        if name.lower() in self.tenant.library and not _bool(request.form.get("OverrideIfExists", "false")):
            raise ApiError(400, "BadRequest", "A library file named %s already exists; set OverrideIfExists to "
                                              "replace it" % name)
        entity = self.tenant.add_library_file(
            name, data, description=request.form.get("Description", ""),
            has_parameters=_bool(request.form.get("HasParameters", "false")),
            parameters_description=request.form.get("ParametersDescription", ""),
            created_by=app.requestor)
        return json_response(entity)

    def delete_library(self, request, app, name):
        _require(app, ("Library.Manage",))
        if name.lower() not in self.tenant.library:
            raise ApiError(404, "NotFound", "Library file %s was not found" % name)
        del self.tenant.library[name.lower()]
        return json_response(None, status=204)


def sign(key, path, expiry):
    return hmac.new(key, ("%s\n%d" % (path, expiry)).encode(), hashlib.sha256).hexdigest()


def link_query(key, path, now, lifetime):
    expiry = int(now + lifetime)
    return urlencode({"sv": "2020-08-04", "sr": "b", "sp": "r", "se": str(expiry), "sig": sign(key, path, expiry)})


def check_link(key, path, args, now):
    try:
        expiry = int(args.get("se", ""))
    except ValueError:
        return "the link has no expiry"
    if not hmac.compare_digest(sign(key, path, expiry), args.get("sig", "")):
        return "the signature does not match"
    if now > expiry:
        return "the link expired"
    return None
