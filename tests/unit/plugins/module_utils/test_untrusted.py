"""Shapes of API values that may reach a template, and JSON text that can never be one."""

import json

import pytest

from ansible_collections.secops.defender.plugins.module_utils._untrusted import (
    ALERT_ID,
    HOST_NAME,
    MACHINE_ID,
    inert_json,
    shaped,
)

TRICKY = ["{{ lookup('pipe', 'id') }}", "{% raw %}", "{#", "\\{{", "{\\u007b", "}}{{", "{", "}", "\\", '"{{"',
          "\u007b\u007b", "emoji \U0001f600 {%", "\x00{{\n"]


@pytest.mark.parametrize("text", TRICKY)
def test_inert_json_round_trips_and_holds_no_template_start(text):
    value = {text: [text, {"k": text, text: None}], "n": [1, 2.5, True, None, []], "e": {}}
    encoded = inert_json(value)
    assert json.loads(encoded) == value
    for start in ("{{", "{%", "{#"):
        assert start not in encoded


@pytest.mark.parametrize("pattern,value,expected", [
    (MACHINE_ID, "1E5BC9D7E413DDD7902C2932E418702B84D0CC07", "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"),
    (MACHINE_ID, "../" + "a" * 37, None),
    (MACHINE_ID, None, None),
    (ALERT_ID, "da637292082891366787_-1768141037", "da637292082891366787_-1768141037"),
    (ALERT_ID, "da63{{x}}", None),
    (HOST_NAME, "ws-fin-001.corp.example.com", "ws-fin-001.corp.example.com"),
    (HOST_NAME, "a..b", None),
    (HOST_NAME, "..", None),
    (HOST_NAME, "hx0 {{ 7*191 }}", None),
    (HOST_NAME, "line\nbreak", None),
])
def test_shapes(pattern, value, expected):
    assert shaped(pattern, value, lower=pattern is MACHINE_ID) == expected
