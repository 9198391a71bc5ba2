"""Create an alert on the emulator and turn it into the event the secops.defender.alerts source delivers."""

import asyncio
import importlib.util
import json
import os
import sys

import requests

EXTENSION = os.path.join("extensions", "eda", "plugins", "event_source", "alerts.py")
SHA1 = "feedfacefeedfacefeedfacefeedfacefeedface"
SHA1_LINUX = "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"


def source_path():
    """The event source of the collection under test: in the collections path ansible-test sets, or beside us."""
    roots = (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or "")
    candidates = [os.path.join(root, "ansible_collections", "secops", "defender", EXTENSION)
                  for root in roots.split(os.pathsep) if root]
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 4), EXTENSION))
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    raise SystemExit("the secops.defender.alerts event source was not found in %s" % candidates)


def control(emulator, method, path, body=None):
    response = requests.request(method, emulator["control_url"] + path, json=body, timeout=10,
                                headers={"X-Emulator-Key": emulator["control_key"]}, verify=emulator["ca_path"])
    response.raise_for_status()
    return response.json()


def main(config_path, out, mode="event"):
    """mode: event (an alert on the Windows device, event.json), linux (an alert on the Linux device, which refuses
    StopAndQuarantineFile, event-linux.json), or reset."""
    with open(config_path) as handle:
        config = json.load(handle)
    emulator = config.get("defender_emulator")
    if not emulator:
        print("not on the emulator: skipped")
        sys.exit(3)
    if mode == "reset":
        control(emulator, "POST", "/settings", {"clock_speed": 1})
        return
    control(emulator, "POST", "/settings", {"clock_speed": 30})
    linux = mode == "linux"
    sha1 = SHA1_LINUX if linux else SHA1
    alert = control(emulator, "POST", "/alerts", {
        "title": "secops remediation test", "severity": "High",
        "machineId": config["defender_linux_machine_id" if linux else "defender_machine_id"],
        "evidence": [{"entityType": "File", "sha1": sha1, "fileName": "dropper.exe"}]})
    spec = importlib.util.spec_from_file_location("secops_defender_alerts", source_path())
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    queue = asyncio.Queue()
    args = dict(config["defender_auth"], once=True, severities=["High"], lookback="7d",
                checkpoint=os.path.join(out, "checkpoint.json"))
    asyncio.run(source.main(queue, args))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    mine = [e for e in events if e["alert_id"] == alert["id"]]
    assert len(mine) == 1 and mine[0]["sha1s"] == [sha1], events
    with open(os.path.join(out, "event-linux.json" if linux else "event.json"), "w") as handle:
        json.dump({"ansible_eda": {"event": mine[0]}}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
