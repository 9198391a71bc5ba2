"""secops.defender.scope_devices and scope_lines on results shaped like the pivots' and the hunting module's
RETURN: every device once, with every route that found it, nothing that is not a device id, and all of it inert."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.secops.defender.plugins.filter import scope_devices as devices_plugin
from ansible_collections.secops.defender.plugins.filter import scope_lines as lines_plugin

scope_devices = devices_plugin.FilterModule().filters()["scope_devices"]
scope_lines = lines_plugin.FilterModule().filters()["scope_lines"]

try:  # ansible-core 2.19 and later
    from ansible._internal._datatag._tags import TrustedAsTemplate

    def is_marked_unsafe(value):
        return not TrustedAsTemplate.is_tagged_on(value)
except ImportError:  # 2.16 to 2.18
    from ansible.utils.unsafe_proxy import AnsibleUnsafe

    def is_marked_unsafe(value):
        return isinstance(value, AnsibleUnsafe)

WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
WS2 = "2B2F8C1F0D6A4C3D9E8F7A6B5C4D3E2F1A0B9C8D"
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
HOSTILE = "hx {{ lookup('pipe', 'id') }}"


def pivot(*machines):
    return {"changed": False, "machines": [{"machine_id": m, "machine_name": n, "found_by": f} for m, n, f in machines],
            "machine_ids": [m for m, _n, _f in machines]}


def hunt(name, *rows, **extra):
    return {"changed": False, "results": [dict({"index": 0, "hunt": name, "results": list(rows)}, **extra)]}


def test_the_union_keeps_each_device_once_with_every_route():
    files = pivot((WS1, "ws-fin-001", [SHA1]))
    hunting = hunt("devices_with_file", {"DeviceId": WS2, "DeviceName": "ws-fin-002"},
                   {"deviceid": WS1.upper(), "DeviceName": "ws-fin-001"})
    rows = scope_devices({"files API": files, "hunting": hunting})
    assert [r["machine_id"] for r in rows] == [WS1, WS2.lower()]
    assert rows[0]["found_by"] == ["files API %s" % SHA1, "hunting devices_with_file"]
    assert rows[1] == {"machine_id": WS2.lower(), "machine_name": "ws-fin-002",
                       "found_by": ["hunting devices_with_file"]}


def test_skipped_tasks_and_failed_queries_give_nothing():
    rows = scope_devices({"files API": {"skipped": True, "changed": False},
                          "hunting": {"results": [{"index": 0, "hunt": None, "failed": True}]},
                          "none": None})
    assert rows == []
    assert scope_lines(rows) == ["No device was found."]


def test_a_query_of_ones_own_is_named_by_its_place():
    rows = scope_devices([hunt(None, {"DeviceId": WS1})])
    assert rows[0]["found_by"] == ["pivot 0 query 0"] and rows[0]["machine_name"] is None
    assert scope_lines(rows) == ["%s (%s): found by pivot 0 query 0" % (WS1, WS1)]


def test_what_is_not_a_device_id_is_left_out():
    rows = scope_devices({"hunting": hunt("x", {"DeviceId": "../../etc"}, {"DeviceId": HOSTILE}, {"DeviceId": None},
                                          {"DeviceId": WS1 + "00"})})
    assert rows == []


def test_everything_comes_back_unsafe():
    rows = scope_devices({"hunting": hunt("devices_with_file", {"DeviceId": WS1, "DeviceName": HOSTILE})})
    assert rows[0]["machine_name"] == HOSTILE and is_marked_unsafe(rows[0]["machine_name"])
    line = scope_lines(rows)[0]
    assert HOSTILE in line and is_marked_unsafe(line)


def test_anything_else_is_refused():
    with pytest.raises(AnsibleFilterError):
        scope_devices("ws-fin-001")
