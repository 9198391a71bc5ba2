"""The tenant: apps, machines, library and machine actions, and how actions move on the clock."""

import gzip
import hashlib
import io
import json
import re
import threading
import uuid
import zipfile

from .clock import iso
from .errors import ApiError
from .alerts import Alerts
from .indicators import Indicators
from .investigations import Investigations

FINAL = ("Succeeded", "Failed", "TimeOut", "Cancelled")
WINDOWS_PLATFORMS = ("Windows10", "Windows11", "WindowsServer2019", "WindowsServer2022", "WindowsServer2025")
SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
COMMAND_ORDER = {"PutFile": 0, "RunScript": 1, "GetFile": 2}
COMMAND_PARAM = {"PutFile": "FileName", "RunScript": "ScriptName", "GetFile": "Path"}


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def deterministic_bytes(seed, size):
    """Bytes that depend only on seed and size, so tests can check them by hash."""
    out, block, counter = bytearray(), b"", 0
    while len(out) < size:
        block = hashlib.sha256(("%s:%d" % (seed, counter)).encode()).digest()
        out.extend(block)
        counter += 1
    return bytes(out[:size])


class Machine:
    def __init__(self, spec, now):
        self.id = spec.get("id") or hashlib.sha1(spec["computerDnsName"].encode()).hexdigest()
        self.name = spec["computerDnsName"]
        self.os_platform = spec.get("osPlatform", "Windows11")
        self.online = spec.get("online", True)
        self.online_since = now - 86400 if self.online else None
        self.files = {}
        for path, file_spec in (spec.get("files") or {}).items():
            self.add_file(path, file_spec)
        self.entity = {
            "id": self.id,
            "computerDnsName": self.name,
            "firstSeen": iso(now - 90 * 86400),
            "lastSeen": spec.get("lastSeen") or iso(now),   # a stale record of a re-onboarded device
            "osPlatform": self.os_platform,
            "osVersion": spec.get("osVersion"),
            "osProcessor": "x64",
            "version": spec.get("version", "22H2"),
            "lastIpAddress": spec.get("lastIpAddress", "10.0.0.%d" % (int(self.id[:2], 16) % 250 + 1)),
            "lastExternalIpAddress": spec.get("lastExternalIpAddress", "203.0.113.10"),
            "agentVersion": "10.8760.22621.1000",
            "osBuild": spec.get("osBuild", 22621),
            "healthStatus": spec.get("healthStatus", "Active" if self.online else "Inactive"),
            "onboardingStatus": spec.get("onboardingStatus", "Onboarded"),
            "rbacGroupId": spec.get("rbacGroupId", 0),
            "rbacGroupName": spec.get("rbacGroupName"),
            "riskScore": spec.get("riskScore", "None"),
            "exposureLevel": spec.get("exposureLevel", "Low"),
            "isAadJoined": spec.get("isAadJoined", True),
            "aadDeviceId": spec.get("aadDeviceId"),
            "machineTags": list(spec.get("machineTags") or []),
            "defenderAvStatus": "Updated",
            "deviceValue": spec.get("deviceValue", "Normal"),
        }
        self.entity["ipAddresses"] = [{"ipAddress": self.entity["lastIpAddress"], "type": "Ethernet",
                                       "operationalStatus": "Up"}]

    def add_file(self, path, spec):
        spec = spec or {}
        if "content" in spec:
            data = spec["content"].encode() if isinstance(spec["content"], str) else spec["content"]
        else:
            data = deterministic_bytes("%s:%s" % (self.id, path.lower()), int(spec.get("size", 1024)))
        self.files[path.lower()] = (path, data)

    def get_file(self, path):
        return self.files.get(path.lower())


class Action:
    def __init__(self, action_type, machine, app, comment, now, **extra):
        self.id = str(uuid.uuid4())
        self.type = action_type
        self.machine = machine
        self.app = app
        self.comment = comment
        self.created = now
        self.updated = now
        self.status = "Pending"
        self.started = None
        self.final_at = None
        self.final_status = None
        self.plan = None            # live response: per-command timeline, fixed at start
        self.commands = extra.pop("commands", None)
        self.extra = extra
        self.cancel = None
        self.error_hresult = 0

    def entity(self, settings):
        body = {
            "id": self.id,
            "type": self.type,
            "title": self.extra.get("title"),
            "requestor": self.app.requestor,
            "requestorComment": self.comment,
            "status": self.status,
            "machineId": self.machine.id,
            "computerDnsName": self.machine.name,
            "creationDateTimeUtc": iso(self.created),
            settings["last_update_field"]: iso(self.updated),
            "cancellationRequestor": self.cancel[0] if self.cancel else None,
            "cancellationComment": self.cancel[1] if self.cancel else None,
            "cancellationDateTimeUtc": iso(self.cancel[2]) if self.cancel else None,
            "errorHResult": self.error_hresult,
            "scope": self.extra.get("scope"),
            "externalID": self.extra.get("externalID"),
            "requestSource": "PublicApi",
            "relatedFileInfo": self.extra.get("relatedFileInfo"),
            "troubleshootInfo": None,
        }
        if self.type == "LiveResponse":
            body["commands"] = self._command_entities()
        return body

    def _command_entities(self):
        out = []
        for index, cmd in enumerate(self.commands):
            step = self.plan[index] if self.plan else None
            status, errors, start, end = "Created", [], None, None
            if step and step["start"] is not None and self.updated >= step["start"]:
                start = step["start"]
                status = "InProgress"
                if self.updated >= step["end"]:
                    status, end, errors = step["status"], step["end"], step["errors"]
            if self.status == "Cancelled" and status in ("Created", "InProgress"):
                status = "Cancelled" if status == "InProgress" else status
            out.append({
                "index": index, "startTime": iso(start), "endTime": iso(end),
                "commandStatus": status, "errors": errors,
                "command": {"type": cmd["type"], "params": cmd.get("params", [])},
            })
        return out


class App:
    def __init__(self, spec):
        self.client_id = spec["client_id"]
        self.name = spec.get("name", self.client_id)
        self.requestor = spec.get("requestor", self.name)
        self.secret = spec.get("client_secret")
        self.certificates = list(spec.get("certificates") or ([spec["certificate"]] if spec.get("certificate") else []))
        self.roles = list(spec.get("roles") or [])
        self.managed_identity = spec.get("managed_identity") or False  # "system", "user" or False


class Tenant:
    """All state. Every public method runs under one lock; actions are brought up to date lazily."""

    def __init__(self, tenant_id, clock, settings):
        self.tenant_id = tenant_id
        self.clock = clock
        self.settings = settings
        self.lock = threading.RLock()
        self.apps = {}
        self.machines = {}
        self.library = {}
        self.scripts = {}
        self.actions = {}
        self.order = []
        self.indicators = Indicators(clock, settings)
        self.alerts = Alerts(clock, settings)
        self.investigations = Investigations(clock, settings, self.alerts)

    # --- seeding -------------------------------------------------------------------------
    def add_app(self, spec):
        app = App(spec)
        self.apps[app.client_id] = app
        return app

    def add_machine(self, spec):
        machine = Machine(spec, self.clock.now())
        self.machines[machine.id] = machine
        return machine

    def add_library_file(self, name, data, description="", has_parameters=False, parameters_description="",
                         created_by="seed"):
        now = iso(self.clock.now())
        existing = self.library.get(name.lower())
        self.library[name.lower()] = {
            "fileName": name,
            "sha256": _sha256(data),
            "description": description or None,   # Learn's list example: null when there is none
            "creationTime": existing["creationTime"] if existing else now,
            "lastUpdatedTime": now,
            "createdBy": created_by,
            "hasParameters": bool(has_parameters),
            "parametersDescription": parameters_description or None,
            "_content": data,
        }
        return self.library_entity(name)

    def library_entity(self, name):
        entry = self.library[name.lower()]
        return {k: v for k, v in entry.items() if not k.startswith("_")}

    def set_script(self, name, behaviour):
        self.scripts[name.lower()] = dict(behaviour)

    # --- lookups ---------------------------------------------------------------------------
    def find_machine(self, key):
        if key in self.machines:
            return self.machines[key]
        for machine in self.machines.values():
            if machine.id.lower() == key.lower() or machine.name.lower() == key.lower():
                return machine
        raise ApiError(404, "ResourceNotFound", "Machine %s was not found" % key)

    def get_action(self, action_id):
        action = self.actions.get(action_id.lower())
        if not action:
            raise ApiError(404, "ResourceNotFound", "MachineAction %s was not found" % action_id)
        self.refresh(action)
        return action

    def all_actions(self):
        now = self.clock.now()
        for action_id in self.order:
            self.refresh(self.actions[action_id], now)
        return [self.actions[a] for a in self.order]

    # --- lifecycle ------------------------------------------------------------------------
    def refresh(self, action, now=None):
        """Bring one action up to the clock's present."""
        if action.status in FINAL:
            return
        now = self.clock.now() if now is None else now
        s = self.settings
        if action.started is None:
            machine = action.machine
            start_at = None
            if machine.online:
                start_at = max(action.created, machine.online_since) + s["pending_seconds"]
            deadline = action.created + s["queue_limit_seconds"]
            if start_at is not None and start_at <= min(now, deadline):
                self._start(action, start_at)
            elif now >= deadline:
                action.status, action.updated, action.final_status = "TimeOut", deadline, "TimeOut"
                action.error_hresult = -2147467260
                return
            else:
                return
        if now >= action.final_at:
            action.status, action.updated = action.final_status, action.final_at
            self._on_final(action)
        else:
            action.updated = max(action.started, self._last_event_before(action, now))

    def _last_event_before(self, action, now):
        events = [action.started]
        for step in action.plan or []:
            for key in ("start", "end"):
                if step.get(key) is not None and step[key] <= now:
                    events.append(step[key])
        return max(events)

    def _start(self, action, at):
        action.started = at
        action.status = "InProgress"
        action.updated = at
        s = self.settings
        if action.type != "LiveResponse":
            action.final_at = at + s["action_seconds"]
            action.final_status = action.extra.get("outcome", "Succeeded")
            return
        action.plan, t, failed = [], at, False
        known_files = set(action.machine.files)
        for cmd in action.commands:
            if failed:
                action.plan.append({"start": None, "end": None, "status": "Created", "errors": []})
                continue
            step = self._plan_command(action, cmd, t, known_files)
            action.plan.append(step)
            t = step["end"]
            failed = step["status"] == "Failed"
        action.final_at = t
        action.final_status = "Failed" if failed else "Succeeded"

    def _plan_command(self, action, cmd, start, known_files):
        s = self.settings
        value = {p["key"]: p["value"] for p in cmd.get("params", [])}
        kind = cmd["type"]
        step = {"start": start, "end": start + s["command_seconds"], "status": "Completed", "errors": []}
        if kind in ("PutFile", "RunScript"):
            name = value[COMMAND_PARAM[kind]]
            if name.lower() not in self.library:
                step.update(status="Failed", errors=["The file %s was not found in the live response library" % name])
                return step
        if kind == "RunScript":
            behaviour = self.scripts.get(name.lower(), {})
            duration = float(behaviour.get("duration_seconds", s["script_seconds"]))
            if duration > s["runscript_timeout_seconds"]:
                step.update(end=start + s["runscript_timeout_seconds"], status="Failed",
                            errors=["Script execution timed out after %d seconds" % s["runscript_timeout_seconds"]])
                return step
            step["end"] = start + duration
            step["result"] = {
                "script_name": name,
                "exit_code": int(behaviour.get("exit_code", 0)),
                "script_output": behaviour.get("output", "Ran %s %s" % (name, value.get("Args", ""))).strip(),
                "script_errors": behaviour.get("errors", ""),
            }
            if behaviour.get("command_status") == "Failed":
                step.update(status="Failed", errors=[behaviour.get("errors") or "Script failed"])
            step["creates"] = behaviour.get("creates") or {}
            known_files.update(p.lower() for p in step["creates"])
        if kind == "GetFile":
            path = value["Path"]
            if path.lower() not in known_files:
                step.update(status="Failed", errors=["File %s was not found on the device" % path])
        return step

    def _on_final(self, action):
        for step in action.plan or []:
            for path, spec in (step.get("creates") or {}).items():
                if step["status"] == "Completed" and action.machine.get_file(path) is None:
                    action.machine.add_file(path, spec)

    def active_live_response(self, machine=None):
        active = [a for a in self.all_actions() if a.type == "LiveResponse" and a.status not in FINAL]
        if machine is not None:
            active = [a for a in active if a.machine is machine]
        return active

    def set_online(self, machine, online):
        self.all_actions()  # settle everything at the moment of the change
        if online and not machine.online:
            machine.online_since = self.clock.now()
        machine.online = online
        machine.entity["healthStatus"] = "Active" if online else "Inactive"

    # --- actions --------------------------------------------------------------------------
    def submit(self, action_type, machine, app, comment, **extra):
        if not comment:
            raise ApiError(400, "MissingRequiredParameter", "Comment is required")
        now = self.clock.now()
        action = Action(action_type, machine, app, comment, now, **extra)
        self.actions[action.id] = action
        self.order.append(action.id)
        return action

    def check_no_pending(self, machine, types):
        for action in self.all_actions():
            if action.machine is machine and action.type in types and action.status not in FINAL:
                if self.settings["repeat_code"] == "legacy":
                    raise ApiError(400, "BadRequest", "Action is already in progress")
                raise ApiError(400, "ActiveRequestAlreadyExists", "Action %s (%s) is already in progress on machine "
                               "%s" % (action.id, action.type, machine.id))

    def validate_commands(self, commands):
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "InvalidRequestBody", "Commands must be a non-empty list")
        last = -1
        for index, cmd in enumerate(commands):
            kind = cmd.get("type") if isinstance(cmd, dict) else None
            if kind not in COMMAND_ORDER:
                raise ApiError(400, "InvalidRequestBody", "Command %d has unknown type %r" % (index, kind))
            params = {p.get("key"): p.get("value") for p in cmd.get("params") or [] if isinstance(p, dict)}
            if not params.get(COMMAND_PARAM[kind]):
                raise ApiError(400, "InvalidRequestBody",
                               "Command %d (%s) needs parameter %s" % (index, kind, COMMAND_PARAM[kind]))
            if COMMAND_ORDER[kind] < last:
                raise ApiError(400, "InvalidRequestBody",
                               "Command %d (%s) is out of order: PutFile, then RunScript, then GetFile" % (index, kind))
            last = COMMAND_ORDER[kind]

    def cancel_action(self, action, app, comment):
        if not comment:
            raise ApiError(400, "MissingRequiredParameter", "Comment is required")
        self.refresh(action)
        if action.status in FINAL:
            if self.settings["cancel_final"] == "error":
                raise ApiError(400, "BadRequest",
                               "Action %s is already in final status %s and can't be cancelled" % (action.id, action.status))
            return action
        now = self.clock.now()
        action.status = action.final_status = "Cancelled"
        action.updated = action.final_at = now
        action.cancel = (app.requestor, comment, now)
        return action

    # --- results --------------------------------------------------------------------------
    def command_result(self, action, index):
        """The bytes a result link serves for command `index`, or an ApiError."""
        if action.type != "LiveResponse":
            raise ApiError(400, "BadRequest", "Action %s is not a live response" % action.id)
        if index < 0 or index >= len(action.commands):
            raise ApiError(400, "InvalidInput", "No command at index %d" % index)
        commands = action._command_entities()
        cmd = action.commands[index]
        if commands[index]["commandStatus"] != "Completed":
            raise ApiError(404, "ResourceNotFound",
                           "Command %d has no result yet (status %s)" % (index, commands[index]["commandStatus"]))
        step = action.plan[index]
        if cmd["type"] == "PutFile":
            raise ApiError(400, "BadRequest", "PutFile commands have no result")
        if cmd["type"] == "RunScript":
            return json.dumps(step["result"]).encode(), "application/json"
        path = {p["key"]: p["value"] for p in cmd["params"]}["Path"]
        found = action.machine.get_file(path)
        if found is None:  # left by a script in this same session
            for other in action.plan:
                spec = (other.get("creates") or {}).get(path)
                if spec is not None:
                    action.machine.add_file(path, spec)
            found = action.machine.get_file(path)
        data = found[1]
        if self.settings["getfile_encoding"] == "gzip":
            return gzip.compress(data, mtime=0), "application/gzip"
        return data, "application/octet-stream"

    def package_bytes(self, action):
        """An investigation package: a real zip (the client checks that it is one), the same for the same action."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for name in ("Processes/processes.csv", "Network connections/netstat.txt", "System information/os.txt"):
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                archive.writestr(info, deterministic_bytes("package:%s:%s" % (action.id, name), 1024))
        return buffer.getvalue()
