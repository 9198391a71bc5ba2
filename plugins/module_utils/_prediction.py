# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what check mode can tell from a device's Machine entity before anything is sent.

- refusal(): the API's platform gates (Learn: api/isolate-machine, api/restrict-code-execution, api/run-av-scan,
  api/stop-and-quarantine-file, api/offboard-machine-api), from the device's osPlatform and version, as the error
  the API would answer (OsPlatformNotSupported, ClientVersionNotSupported), in the API's words.
- offline_warning(): a device that is not Active queues the action until it is back, which may take long
  (Learn: api/live-response, "a device that is not available": the session waits in a queue).
- missing_permission(): an app token (a JWT) lists its application permissions in its `roles` claim
  (Learn: api/exposed-apis-create-app-webapp, "validate the token"); one without the action's permission would
  get 403. Only the claim is read, never the token shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderError, DefenderForbiddenError

WINDOWS_CLIENTS = ("Windows10", "Windows11")
FULL_ISOLATION = WINDOWS_CLIENTS + ("Linux",)
# The Windows 10 release each gate needs (the Machine entity's `version`, "1709" or "22H2").
NEEDS_1703 = ("StopAndQuarantineFile", "Isolate")
NEEDS_1709 = ("RestrictCodeExecution", "UnrestrictCodeExecution", "RunAntiVirusScan", "Isolate (Selective)")
# How long the API keeps an action for a device that is away (Learn's live response page: 3 days in 2023,
# 2 hours since 2025), said in the warning.
QUEUE_WAIT = "up to 3 days, or 2 hours for a live response on current tenants"


def _scope(spec, options):
    if spec.action_type == "Isolate":
        return options.get("isolation_type") or "Full"
    if spec.action_type == "RunAntiVirusScan":
        return options.get("scan_type")
    return None


def _windows10_release(version):
    """1709 for "1709", 2009 for "20H2"-style releases (all later than 1709), None when it does not say."""
    text = str(version or "").strip().upper()
    if re.match(r"^\d{4}$", text):
        return int(text)
    match = re.match(r"^(\d\d)H(\d)$", text)
    if match:
        return int(match.group(1)) * 100 + 9
    return None


def _platform_message(spec, scope, platform):
    """The API's answer (as the emulator gives it, tests/mde_emulator/api.py) for an unsupported platform."""
    if spec.action_type == "StopAndQuarantineFile":
        return ("StopAndQuarantineFile is not supported on %s; it needs Windows 10 version 1703 or later, or "
                "Windows 11" % platform)
    if spec.action_type == "Offboard":
        return "Offboard is not supported on %s; it is for Windows devices only" % platform
    what = "%s (%s)" % (spec.action_type, scope) if scope else spec.action_type
    return "%s is not supported on %s" % (what, platform)


def refusal(spec, options, machine):
    """The DefenderError the API would answer for this action on this device, or None when nothing says it would
    refuse (a platform or version the entity does not show is never guessed at)."""
    if not machine:
        return None
    platform = machine.get("osPlatform")
    if not platform:
        return None
    scope = _scope(spec, options)
    kind = spec.action_type
    if kind == "Offboard":
        allowed = None if platform.startswith("Windows") else ()
    elif kind == "StopAndQuarantineFile":
        allowed = WINDOWS_CLIENTS
    elif kind in ("Isolate", "Unisolate") and scope in (None, "Full"):
        allowed = FULL_ISOLATION
    elif kind in ("Isolate", "RestrictCodeExecution", "UnrestrictCodeExecution", "RunAntiVirusScan"):
        allowed = WINDOWS_CLIENTS
    else:
        return None
    name = machine.get("computerDnsName") or machine.get("id")
    if allowed is not None and platform not in allowed:
        return _predicted(spec, name, "OsPlatformNotSupported", _platform_message(spec, scope, platform),
                          "its osPlatform is %s" % platform)
    release = _windows10_release(machine.get("version")) if platform == "Windows10" else None
    gate = "%s (%s)" % (kind, scope) if kind == "Isolate" and scope == "Selective" else kind
    needed = 1709 if gate in NEEDS_1709 else (1703 if gate in NEEDS_1703 else None)
    if release is not None and needed and release < needed:
        return _predicted(spec, name, "ClientVersionNotSupported",
                          "%s is not supported on Windows 10 version %s; it needs version %d or later"
                          % (gate, machine.get("version"), needed), "it runs Windows 10 version %s"
                          % machine.get("version"))
    return None


def _predicted(spec, name, code, api_message, why):
    error = DefenderError("The API would refuse %s on %s: %s (%s, predicted in check mode because %s; nothing was "
                          "sent)." % (spec.action_type, name, api_message, code, why), status=400, code=code,
                          api_message=api_message,
                          hint="%s runs on %s only." % (spec.action_type, spec.platforms) if spec.platforms else None)
    return error


def offline_warning(spec, machine, check_mode):
    """A warning for a device that is not Active (offline, inactive, impaired), or None."""
    if not machine:
        return None
    health = machine.get("healthStatus")
    if not health or health == "Active":
        return None
    name = machine.get("computerDnsName") or machine.get("id")
    seen = " (last seen %s)" % machine["lastSeen"] if machine.get("lastSeen") else ""
    return ("%s is %s%s: its %s %s in Defender until the device is back online (%s); a wait for it ends at "
            "wait_timeout." % (name, health, seen, spec.action_type, "would queue" if check_mode else "queues",
                               QUEUE_WAIT))


def token_roles(token):
    """The `roles` claim of a JWT access token (a list), or None when it has none or is not a JWT. The signature
    is not checked: this only predicts what the API would say."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
    except (AttributeError, IndexError, ValueError, TypeError):
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else None


def missing_permission(spec, token):
    """The 403 the API would answer when the app token's roles lack the action's permission, or None (a token
    without a roles claim, a delegated one, says nothing here)."""
    roles = token_roles(token)
    if roles is None or not spec.permission or spec.permission in roles:
        return None
    return DefenderForbiddenError(
        "The API would refuse %s: the app's token has no %s role (its roles: %s) (Forbidden, predicted in check mode "
        "from the token's roles claim; nothing was sent)." % (spec.action_type, spec.permission,
                                                              ", ".join(sorted(roles)) or "none"),
        status=403, code="Forbidden",
        hint="The app needs the application permission %s, with admin consent." % spec.permission)
