"""Set up the rulebook run (an alert, the shipped rulebook polling once, inventory, connection variables, and the
event the source makes of the alert), reset the emulator afterwards, or check what the run left behind.

python rulebook_setup.py CONFIG OUT [setup|check|clear-log|no-writes|reset]"""

import asyncio
import importlib.util
import json
import os
import shlex
import sys

import requests
import yaml

RULEBOOK = os.path.join("extensions", "eda", "rulebooks", "quarantine_and_isolate.yml")
SOURCE = os.path.join("extensions", "eda", "plugins", "event_source", "alerts.py")
SHA1 = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff"
OWNER = "secops.defender automation"
# The classification and determination the test chooses (the playbook's defaults are TruePositive / Other).
CHOSEN = {"remediate_classification": "TruePositive", "remediate_determination": "Malware"}


def control(emulator, method, path, body=None):
    response = requests.request(method, emulator["control_url"] + path, json=body, timeout=10,
                                headers={"X-Emulator-Key": emulator["control_key"]}, verify=emulator["ca_path"])
    response.raise_for_status()
    return response.json()


def shipped(relative):
    roots = (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or "")
    for root in [r for r in roots.split(os.pathsep) if r]:
        path = os.path.join(root, "ansible_collections", "secops", "defender", relative)
        if os.path.exists(path):
            return path
    raise SystemExit("%s was not found under %s" % (relative, roots))


def source_event(config, out, alert_id):
    """The event the secops.defender.alerts source makes of the alert now, with a checkpoint of its own: what the
    rulebook's source delivers to the rule, for the second delivery of the same event."""
    spec = importlib.util.spec_from_file_location("secops_defender_alerts", shipped(SOURCE))
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    queue = asyncio.Queue()
    args = dict(config["defender_auth"], once=True, severities=["High"], statuses=["New"], lookback="7d",
                checkpoint=os.path.join(out, "event-checkpoint.json"))
    asyncio.run(source.main(queue, args))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    mine = [e for e in events if e["alert_id"] == alert_id]
    assert len(mine) == 1 and mine[0]["sha1s"] == [SHA1], events
    with open(os.path.join(out, "event.json"), "w") as handle:
        json.dump({"ansible_eda": {"event": mine[0]}}, handle)


def hold_other_alerts(emulator, out):
    """Make this test's alert the only New one while the rulebook runs, and note the others to give back.

    The shipped rule runs the playbook for every New high-severity alert, and targets share one emulator. With
    `once`, the source ends after one poll, and ansible-rulebook then shuts down, cancelling the actions that have
    not ended within --shutdown-delay (ansible-rulebook#633): on a busy machine a second alert's playbook ran and
    this test's never did."""
    held = [a["id"] for a in control(emulator, "GET", "/state")["alerts"] if a.get("status") == "New"]
    for alert_id in held:
        control(emulator, "PATCH", "/alerts/%s" % alert_id, {"status": "InProgress"})
    with open(os.path.join(out, "held-alerts.json"), "w") as handle:
        json.dump(held, handle)


def give_back_alerts(emulator, out):
    path = os.path.join(out, "held-alerts.json")
    if os.path.exists(path):
        with open(path) as handle:
            for alert_id in json.load(handle):
                control(emulator, "PATCH", "/alerts/%s" % alert_id, {"status": "New"})
        os.unlink(path)


def setup(config, out):
    emulator = config["defender_emulator"]
    control(emulator, "POST", "/settings", {"clock_speed": 30})
    hold_other_alerts(emulator, out)
    alert = control(emulator, "POST", "/alerts", {
        "title": "secops rulebook test", "severity": "High", "machineId": config["defender_machine_id"],
        "evidence": [{"entityType": "File", "sha1": SHA1, "fileName": "loader.exe"}]})
    source_event(config, out, alert["id"])
    with open(shipped(RULEBOOK)) as handle:
        rulebook = yaml.safe_load(handle)
    # The shipped rule hands the event to the playbook as it came (run_playbook puts it in ansible_eda.event): no
    # extra_vars, set_fact or post_event in between. The source takes New alerts only, so the playbook's own
    # updates (InProgress, Resolved) do not come back as events.
    assert rulebook[0]["rules"][0]["action"] == {"run_playbook": {"name": "secops.defender.remediate_alert"}}, \
        rulebook[0]["rules"]
    source = rulebook[0]["sources"][0]["secops.defender.alerts"]
    assert source["statuses"] == ["New"], source
    # The shipped rules, with the source told to poll once (so the run ends) and to keep its checkpoint here.
    source.update(once=True, lookback="7d", checkpoint=os.path.join(out, "checkpoint.json"))
    rulebook[0]["rules"][0]["action"]["run_playbook"]["extra_vars"] = dict(CHOSEN, remediate_poll_interval=1)
    with open(os.path.join(out, "rulebook.yml"), "w") as handle:
        yaml.safe_dump(rulebook, handle)
    with open(os.path.join(out, "inventory.yml"), "w") as handle:
        yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                        "ansible_python_interpreter": sys.executable}}}}, handle)
    auth = config["defender_auth"]
    names = {"tenant_id": "DEFENDER_TENANT_ID", "client_id": "DEFENDER_CLIENT_ID",
             "client_secret": "DEFENDER_CLIENT_SECRET", "api_url": "DEFENDER_API_URL",
             "authority_url": "DEFENDER_AUTHORITY_URL", "ca_path": "DEFENDER_CA_PATH",
             "token_cache_dir": "DEFENDER_TOKEN_CACHE_DIR"}
    with open(os.path.join(out, "env.sh"), "w") as handle:
        for key, variable in names.items():
            if auth.get(key):
                handle.write("export %s=%s\n" % (variable, shlex.quote(str(auth[key]))))


def check(config, out):
    state = control(config["defender_emulator"], "GET", "/state")
    device = config["defender_machine_id"]
    quarantines = [a for a in state["actions"] if a["machineId"] == device and a["type"] == "StopAndQuarantineFile"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    isolations = sorted((a for a in state["actions"] if a["machineId"] == device
                         and a["type"] in ("Isolate", "Unisolate")), key=lambda a: a["creationDateTimeUtc"])
    assert [a["status"] for a in quarantines] == ["Succeeded"], quarantines
    assert isolations and isolations[-1]["type"] == "Isolate" and isolations[-1]["status"] == "Succeeded", isolations
    with open(os.path.join(out, "event.json")) as handle:
        alert_id = json.load(handle)["ansible_eda"]["event"]["alert_id"]
    alert = [a for a in state["alerts"] if a["id"] == alert_id][0]
    assert (alert["status"], alert["classification"], alert["determination"], alert["assignedTo"]) == (
        "Resolved", CHOSEN["remediate_classification"], CHOSEN["remediate_determination"], OWNER), alert
    comments = [c["comment"] for c in alert["comments"]]
    assert len(comments) == 1, comments
    lines = comments[0].splitlines()
    name = config["defender_machine_name"]
    for line in ("StopAndQuarantineFile %s on %s: action %s Succeeded" % (SHA1, name, quarantines[0]["id"]),
                 "Isolate (Full) on %s: action %s Succeeded" % (name, isolations[-1]["id"])):
        assert line in lines, (line, lines)
    print("the rulebook quarantined %s, isolated %s and resolved alert %s with one comment" % (SHA1, device, alert_id))


def writes(config):
    log = control(config["defender_emulator"], "GET", "/log")["value"]
    return [(e["method"], e["path"]) for e in log if e["host"] == "api" and e["path"].startswith("/api/")
            and e["method"] in ("POST", "PATCH", "PUT", "DELETE")]


def main(config_path, out, mode="setup"):
    with open(config_path) as handle:
        config = json.load(handle)
    if not config.get("defender_emulator"):
        print("not on the emulator: skipped")
        sys.exit(3)
    if mode == "reset":
        control(config["defender_emulator"], "POST", "/settings", {"clock_speed": 1})
        give_back_alerts(config["defender_emulator"], out)
    elif mode == "check":
        check(config, out)
    elif mode == "clear-log":
        control(config["defender_emulator"], "DELETE", "/log")
    elif mode == "no-writes":
        assert writes(config) == [], writes(config)
        print("nothing was written")
    else:
        setup(config, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
