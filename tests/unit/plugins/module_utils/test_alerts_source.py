"""The Event-Driven Ansible source secops.defender.alerts, driven through its main(queue, args) against the
emulator: every alert update once, across restarts; filters; a 429 waited out."""

import asyncio
import importlib.util
import json
import os

import pytest

SOURCE = os.path.join(os.path.dirname(__file__), *([os.pardir] * 4),
                      "extensions", "eda", "plugins", "event_source", "alerts.py")
WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"


def load():
    spec = importlib.util.spec_from_file_location("secops_defender_alerts", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alert_of(event):
    return json.loads(event["alert_json"])


def run_once(source, args):
    queue = asyncio.Queue()
    asyncio.run(source.main(queue, dict(args, once=True)))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def test_each_alert_update_is_delivered_once_across_restarts(params, control, tmp_path):
    source = load()
    args = dict(params, checkpoint=str(tmp_path / "checkpoint.json"), lookback="1d")
    high = control("POST", "/alerts", {"title": "Dropper", "severity": "High", "machineId": WS1,
                                       "evidence": [{"entityType": "File", "sha1": SHA1}]})
    control("POST", "/alerts", {"title": "Adware", "severity": "Low", "machineId": WS1})
    first = run_once(source, args)
    assert sorted(alert_of(e)["title"] for e in first) == ["Adware", "Dropper"]
    dropper = [e for e in first if e["alert_id"] == high["id"]][0]
    assert dropper["sha1s"] == [SHA1] and dropper["machine_id"] == WS1
    assert run_once(load(), args) == []                      # a restart: nothing again
    control("POST", "/clock", {"advance": 60})
    control("PATCH", "/alerts/%s" % high["id"], {"status": "InProgress"})
    again = run_once(load(), args)
    assert [(e["alert_id"], e["status"], alert_of(e)["status"]) for e in again] == [
        (high["id"], "InProgress", "InProgress")]
    assert run_once(load(), args) == []


def test_filters_and_a_rate_limit(params, control, tmp_path):
    source = load()
    control("POST", "/alerts", {"title": "Dropper", "severity": "High", "machineId": WS1})
    control("POST", "/alerts", {"title": "Adware", "severity": "Low", "machineId": WS1})
    control("POST", "/faults", {"kind": "status", "status": 429, "retry_after": 1, "count": 1, "method": "GET",
                                "path": "^/api/alerts"})
    control("DELETE", "/log")
    events = run_once(source, dict(params, checkpoint=str(tmp_path / "c.json"), severities=["High"], lookback="1d"))
    assert [alert_of(e)["title"] for e in events] == ["Dropper"]
    statuses = [c["status"] for c in control.api_calls("GET", "/api/alerts")]
    assert statuses == [429, 200]


PAYLOAD = "{{ lookup('pipe', 'id') }} {% raw %} {# x #} }}"


def test_an_event_holds_only_shaped_fields_and_the_alert_as_inert_json(params, control, tmp_path):
    """Whoever controls a device writes the alert's text; none of it may reach a field a template uses, and the
    whole alert travels as JSON text in which no template can start."""
    source = load()
    alert = control("POST", "/alerts", {
        "title": PAYLOAD, "description": PAYLOAD, "severity": "High", "machineId": WS1, "category": PAYLOAD,
        "evidence": [{"entityType": "File", "sha1": SHA1.upper(), "fileName": PAYLOAD, "filePath": PAYLOAD},
                     {"entityType": "File", "sha1": PAYLOAD, "sha256": "not-a-hash"}]})
    events = run_once(source, dict(params, checkpoint=str(tmp_path / "c.json"), lookback="1d"))
    event = [e for e in events if e["alert_id"] == alert["id"]][0]
    assert event["machine_id"] == WS1 and event["sha1s"] == [SHA1] and event["sha256s"] == []
    assert event["severity"] == "High" and event["status"] == "New"
    assert "category" not in event   # not a single word: left out
    assert set(event) == {"alert_id", "machine_id", "computer_dns_name", "severity", "status", "sha1s", "sha256s",
                          "alert_json"}
    for delimiter in ("{{", "{%", "{#"):
        assert delimiter not in json.dumps(dict((k, v) for k, v in event.items() if k != "alert_json"))
        assert delimiter not in event["alert_json"]
    assert alert_of(event) == dict(alert, lastUpdateTime=alert_of(event)["lastUpdateTime"])


def test_a_hostile_api_s_ids_are_left_out_of_the_event():
    source = load()
    event = source.event({"id": "../{{ x }}", "machineId": "ws1", "computerDnsName": "a b{{", "severity": "Huge",
                          "evidence": ["not a dict", {"sha1": "ab" * 20}]})
    assert event["sha1s"] == ["ab" * 20]
    assert set(event) == {"sha1s", "sha256s", "alert_json"}


def test_every_fraction_form_is_delivered_once_across_restarts(params, control, tmp_path):
    """Learn's examples write lastUpdateTime with fractions of any length; as text "...01.123Z" sorts before
    "...01.12Z" although it is later, and a checkpoint that compared text delivered the .123 alert again."""
    import time as _time
    now = control("POST", "/clock", {})["clock"]
    base = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(now - 120))
    forms = [base + ".12Z", base + ".123Z", base + ".1Z", base + ".1234567Z", base + "Z", base + ".2Z"]
    made = [control("POST", "/alerts", {"title": "form %s" % form, "severity": "High", "machineId": WS1,
                                        "lastUpdateTime": form})["id"] for form in forms]
    source = load()
    args = dict(params, checkpoint=str(tmp_path / "c.json"), lookback="1d")
    first = run_once(source, args)
    assert sorted(e["alert_id"] for e in first) == sorted(made)
    # oldest first, as instants
    assert [alert_of(e)["lastUpdateTime"] for e in first] == [base + "Z", base + ".1Z", base + ".12Z",
                                                              base + ".123Z", base + ".1234567Z", base + ".2Z"]
    for _restart in range(2):
        assert run_once(load(), args) == []


@pytest.mark.parametrize("earlier,later", [
    ("2020-07-20T10:53:50.12Z", "2020-07-20T10:53:50.123Z"),
    ("2020-07-20T10:53:50Z", "2020-07-20T10:53:50.0000001Z"),
    ("2020-07-20T10:53:59.2Z", "2020-07-20T10:54:00Z"),
    (None, "1970-01-01T00:00:00Z"),
])
def test_times_compare_as_instants(earlier, later):
    from ansible_collections.secops.defender.plugins.module_utils._times import instant
    assert instant(earlier) < instant(later)
    assert instant("2020-07-20T10:53:50.19Z") == instant("2020-07-20T10:53:50.1900000Z")


def test_the_source_takes_its_calls_from_the_coordination_store(params, control, tmp_path, redis_url):
    """An EDA activation and the jobs it launches share one tenant: with coordination_url the source's polls count
    in the same Redis windows as the jobs' calls; a store out of reach stops the activation before any call."""
    import redis

    from .conftest import free_port
    store = redis.Redis.from_url(redis_url)
    before = dict((k, store.zcard(k)) for k in store.scan_iter("secops.defender:{budget-*}:done:*"))
    control("POST", "/alerts", {"title": "Dropper", "severity": "High", "machineId": WS1})
    control("DELETE", "/log")
    events = run_once(load(), dict(params, checkpoint=str(tmp_path / "c.json"), lookback="1d",
                                   coordination_url=redis_url))
    assert [alert_of(e)["title"] for e in events] == ["Dropper"]
    calls = control.api_calls("GET", "/api/alerts")
    counted = sum(store.zcard(k) - before.get(k, 0) for k in store.scan_iter("secops.defender:{budget-*}:done:*"))
    assert len(calls) >= 1 and counted == len(calls)
    control("DELETE", "/log")
    closed = "redis://127.0.0.1:%d" % free_port()
    with pytest.raises(Exception) as caught:
        run_once(load(), dict(params, checkpoint=str(tmp_path / "d.json"), lookback="1d",
                              coordination_url=closed + "/0"))
    assert getattr(caught.value, "code", None) == "CoordinationStore" and closed in str(caught.value)
    assert control.api_calls() == []
