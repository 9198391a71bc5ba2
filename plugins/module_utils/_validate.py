# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: checks of task options by shape, before anything is sent.

Each raises DefenderInputError with a message that names the option, what was given and what is expected."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError, DefenderResponseError
from ansible_collections.secops.defender.plugins.module_utils._untrusted import GUID, MACHINE_ID, shaped

# The live response library takes letters, digits, "-", "_" and "." only.
LIBRARY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
ISO_UTC = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?Z$")
# findbyip looks back this far at most.
FINDBYIP_DAYS = 30


def library_name(value, option="name"):
    """A library file name: a bare file name, never a path (sub/script.ps1 would overwrite script.ps1)."""
    if not LIBRARY_NAME.match(value or "") or value.strip(".") == "":
        what = "a path" if re.search(r"[\\/]", value or "") else "not a valid library file name"
        raise DefenderInputError("%s %r is %s. Library file names are letters, digits, '-', '_' and '.' only, "
                                 "without a folder." % (option, value, what))
    return value


def ip_address(value, option="ip"):
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        raise DefenderInputError("%s %r is not an IP address (like 10.1.2.3)." % (option, value))


def utc_timestamp(value, option="timestamp", max_age_days=None, now=None):
    """An ISO 8601 UTC time like 2026-11-22T09:41:00Z, returned as the API writes it; optionally not older than
    `max_age_days` and not in the future."""
    match = ISO_UTC.match((value or "").strip())
    when = None
    if match:
        parts = [int(p) if p else 0 for p in match.groups()]
        try:
            when = datetime.datetime(*parts, tzinfo=datetime.timezone.utc)
        except ValueError:
            when = None
    if when is None:
        raise DefenderInputError("%s %r is not a UTC time like 2026-11-22T09:41:00Z." % (option, value))
    if max_age_days is not None:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if when < now - datetime.timedelta(days=max_age_days) or when > now + datetime.timedelta(minutes=15):
            raise DefenderInputError("%s %s must be within the last %d days (the API looks back no further)."
                                     % (option, value, max_age_days))
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_id(value, pattern, field, shape):
    checked = shaped(pattern, value)
    if checked is None:
        raise DefenderResponseError(
            "The API answered a %s of %r, which is not %s; it was not used in any path or URL." % (
                field, value if not isinstance(value, str) else value[:80], shape), field=field,
            hint="Nothing was written for it. If this repeats, the API (or something between it and Ansible) is "
                 "not answering as documented: check ca_path and api_url.")
    return checked


def api_guid(value, field="id"):
    """An id from the API that must be a GUID (a machine action's), lower-cased; DefenderResponseError if not."""
    return _api_id(value, GUID, field, "a GUID")


def api_machine_id(value, field="machineId"):
    """A device id from the API (40 hexadecimal characters), lower-cased; DefenderResponseError if not."""
    return _api_id(value, MACHINE_ID, field, "a device id (40 hexadecimal characters)")


def api_action(action, field="machine action"):
    """A machine action from the API, its id and device id checked by shape before anything uses them."""
    if not isinstance(action, dict):
        raise DefenderResponseError("The API answered a %s that is not an object." % field, field=field)
    api_guid(action.get("id"), "%s id" % field)
    if action.get("machineId") is not None:
        api_machine_id(action.get("machineId"), "%s machineId" % field)
    return action
