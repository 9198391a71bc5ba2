# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what the API says, kept as data.

Device names, tags, alert titles, evidence file names and script output are set by whoever controls a device or
writes an alert. Whatever of it reaches a Jinja template on the controller must either have a shape that cannot hold
template syntax (an id, a hash, a DNS name), checked here, or travel as text that cannot be a template (inert_json).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# Ids as the API documents them (Microsoft Learn, "Machine resource type" and "MachineAction resource type"):
# a device id is 40 hex, a machine action id a GUID. The hex shapes are matched lower-cased (shaped() does it).
MACHINE_ID = re.compile(r"^[0-9a-f]{40}$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SHA1 = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Alert ids look like da637292082891366787_-1768141037 or a GUID with a two-letter prefix (Microsoft Learn,
# "Alert resource type"); letters, digits, "_" and "-" cover both.
ALERT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# A DNS host name: labels of letters, digits, "-" and "_" joined by dots, no empty label (so no ".." either).
HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$")
# The Alert entity's documented enumerations (Microsoft Learn, "Alert resource type").
ALERT_SEVERITIES = ("UnSpecified", "Informational", "Low", "Medium", "High")
ALERT_STATUSES = ("Unknown", "New", "InProgress", "Resolved")
# Categories are a documented list of single words (Malware, LateralMovement, CommandAndControl...).
WORD = re.compile(r"^[A-Za-z]{1,64}$")


def shaped(pattern, value, lower=True):
    """`value` when it has the pattern's shape (lower-cased first for hex shapes), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower() if lower else value.strip()
    return value if pattern.fullmatch(value) else None


def one_of(choices, value):
    return value if isinstance(value, str) and value in choices else None


def inert_json(value):
    """`value` as JSON text in which no string can open a template: every brace inside a string is written as a
    \\u escape, so the text holds no "{{", "{%" or "{#" (JSON's own braces are always followed by a quote or a
    closing brace). from_json gives back exactly `value`."""
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (inert_json(str(k)), inert_json(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(inert_json(v) for v in value)
    text = json.dumps(value)
    if isinstance(value, str):
        text = text.replace("{", "\\u007b").replace("}", "\\u007d")
    return text
