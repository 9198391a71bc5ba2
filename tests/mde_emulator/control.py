"""The control API under /_emulator: faults, tokens, clock, machines, seeding, hunting events, state and the log.

It answers only to the control key printed at start-up, never to an API token.
"""

import base64
import os
import secrets

from .clock import iso
from .errors import ApiError, json_response
from .events import TABLES, EventError
from .state import FINAL


def _read_pem(value):
    if value and "-----BEGIN" not in value and os.path.exists(value):
        with open(value) as handle:
            return handle.read()
    return value


class _SeedApp:
    """Who created a seeded indicator."""
    client_id = "00000000-0000-4000-8000-0000000005ee"
    name = "mde-emulator seed"


def seed(emulator, data):
    """Add apps, machines, library files, script behaviours, alerts and indicators from a seed dict."""
    tenant = emulator.tenant
    with tenant.lock:
        for app in data.get("apps") or []:
            app = dict(app)
            if app.get("certificate"):
                app["certificate"] = _read_pem(app["certificate"])
            if app.get("certificates"):
                app["certificates"] = [_read_pem(c) for c in app["certificates"]]
            tenant.add_app(app)
        for machine in data.get("machines") or []:
            added = tenant.add_machine(machine)
            if machine.get("investigationOutcome"):  # the state an investigation on this device ends in
                tenant.investigations.outcomes[added.id] = machine["investigationOutcome"]
        for item in data.get("library") or []:
            if "content_base64" in item:
                content = base64.b64decode(item["content_base64"])
            else:
                content = item.get("content", "").encode()
            tenant.add_library_file(item["fileName"], content, item.get("description", ""),
                                    item.get("hasParameters", False), item.get("parametersDescription", ""))
        for name, behaviour in (data.get("scripts") or {}).items():
            tenant.set_script(name, behaviour)
        for alert in data.get("alerts") or []:
            tenant.alerts.create(alert, tenant)
        for indicator in data.get("indicators") or []:
            tenant.indicators.submit(indicator, _SeedApp)
        events = emulator.api.hunting.events
        events.sync(backdate=True)   # the devices' files were there before the seed
        if data.get("events"):
            events.add(data["events"])


def events_json(emulator):
    """Every table's rows as advanced hunting would return them (times in ISO 8601)."""
    tables = emulator.api.hunting.events.tables()
    out = {}
    for name, rows in tables.items():
        types = dict(TABLES[name])
        out[name] = [{c: (iso(v) if types[c] == "datetime" and v is not None else v) for c, v in row.items()}
                     for row in rows]
    return out


def state(emulator):
    tenant = emulator.tenant
    with tenant.lock:
        actions = [a.entity(tenant.settings) for a in tenant.all_actions()]
        investigations = [dict(i, comment=tenant.investigations.items[i["id"]].comment,
                               requestor=tenant.investigations.items[i["id"]].app.requestor)
                          for i in tenant.investigations.listed()]   # brings alerts' investigationState up to date
        return {
            "tenant_id": tenant.tenant_id,
            "clock": tenant.clock.now(),
            "settings": tenant.settings,
            "apps": [{"client_id": a.client_id, "name": a.name, "roles": a.roles} for a in tenant.apps.values()],
            "machines": [dict(m.entity, online=m.online,
                              files=sorted(entry[0] for entry in m.files.values())) for m in tenant.machines.values()],
            "library": [tenant.library_entity(n) for n in sorted(tenant.library)],
            "actions": actions,
            "alerts": sorted(tenant.alerts.items.values(), key=lambda a: a["alertCreationTime"]),
            "investigations": investigations,
            "indicators": sorted(tenant.indicators.items.values(), key=lambda e: int(e["id"])),
            "active_live_response": [a.id for a in tenant.active_live_response()],
            "leaks": list(emulator.leaks),
            "hunting": {"queries": emulator.api.hunting.queries,
                        "cpu_seconds": emulator.api.hunting.cpu_used()},
            "faults": emulator.faults.pending(),
        }


def handle(emulator, request, path):
    if "Authorization" in request.headers:
        raise ApiError(403, "Forbidden", "The control API does not accept API tokens")
    if not secrets.compare_digest(request.headers.get("X-Emulator-Key", ""), emulator.control_key):
        raise ApiError(401, "Unauthorized", "The control API needs the X-Emulator-Key header")
    body = request.get_json(silent=True) or {}
    parts = path.strip("/").split("/")[1:]
    method = request.method
    tenant = emulator.tenant
    if parts == ["state"] and method == "GET":
        return json_response(state(emulator))
    if parts == ["log"]:
        if method == "DELETE":
            emulator.log.clear()
            del emulator.leaks[:]
            return json_response({"cleared": True})
        return json_response({"value": emulator.log.entries()})
    if parts == ["faults"]:
        if method == "DELETE":
            emulator.faults.clear()
            return json_response({"cleared": True})
        try:
            return json_response(emulator.faults.add(body), 201)
        except ValueError as exc:
            raise ApiError(400, "InvalidInput", str(exc))
    if parts == ["tokens", "expire"] and method == "POST":
        return json_response({"expired": emulator.tokens.expire_all()})
    if parts == ["clock"] and method == "POST":
        with tenant.lock:
            if "speed" in body:
                tenant.clock.set_speed(body["speed"])
            if "advance" in body:
                tenant.clock.advance(body["advance"])
            tenant.all_actions()
        return json_response({"clock": tenant.clock.now(), "speed": tenant.clock.speed})
    if len(parts) == 3 and parts[0] == "machines" and parts[2] == "online" and method == "POST":
        with tenant.lock:
            machine = tenant.find_machine(parts[1])
            tenant.set_online(machine, bool(body.get("online", True)))
            return json_response({"id": machine.id, "online": machine.online})
    if parts == ["reset"] and method == "POST":
        emulator.reset()
        return json_response({"reset": True})
    if parts == ["seed"] and method == "POST":
        try:
            seed(emulator, body)
        except EventError as exc:
            raise ApiError(400, "InvalidInput", str(exc))
        return json_response({"seeded": True})
    if parts == ["events"]:
        with tenant.lock:
            if method == "POST":
                try:
                    return json_response({"added": emulator.api.hunting.events.add(body)}, 201)
                except EventError as exc:
                    raise ApiError(400, "InvalidInput", str(exc))
            return json_response(events_json(emulator))
    if parts == ["hunting", "quota"] and method == "DELETE":
        with tenant.lock:
            emulator.api.hunting.reset()
        return json_response({"cleared": True})
    if parts == ["settings"] and method == "POST":
        with tenant.lock:
            for key, value in body.items():
                if key not in tenant.settings:
                    raise ApiError(400, "InvalidInput", "unknown setting %s" % key)
                if key == "rate_limits":
                    tenant.settings["rate_limits"].update(value)
                    emulator.limiter.configure(tenant.settings["rate_limits"])
                else:
                    tenant.settings[key] = value
            if "clock_speed" in body:
                tenant.clock.set_speed(body["clock_speed"])
        return json_response(tenant.settings)
    if parts == ["alerts"] and method == "POST":
        with tenant.lock:
            return json_response(tenant.alerts.create(body, tenant), 201)
    if len(parts) == 2 and parts[0] == "alerts" and method == "PATCH":
        with tenant.lock:
            return json_response(tenant.alerts.update(parts[1], body))
    if len(parts) == 3 and parts[0] == "investigations" and parts[2] == "state" and method == "POST":
        with tenant.lock:
            return json_response(tenant.investigations.force(parts[1], body).entity())
    if len(parts) == 2 and parts[0] == "actions" and method == "GET":
        with tenant.lock:
            action = tenant.get_action(parts[1])
            return json_response(dict(action.entity(tenant.settings), final=action.status in FINAL))
    raise ApiError(404, "NotFound", "No control endpoint %s %s" % (method, path))
