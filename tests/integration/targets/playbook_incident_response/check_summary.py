"""Check what incident_response left behind: summary.json, summary.txt, evidence files and manifest."""

import hashlib
import json
import os
import sys

import requests


def emulator_state(config):
    emulator = config["defender_emulator"]
    response = requests.get(emulator["control_url"] + "/state", headers={"X-Emulator-Key": emulator["control_key"]},
                            verify=emulator["ca_path"], timeout=10)
    response.raise_for_status()
    return response.json()


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main(config_path, out, rc, log_path):
    with open(config_path) as handle:
        config = json.load(handle)
    with open(log_path) as handle:
        log = handle.read()
    with open(os.path.join(out, "summary.json")) as handle:
        summary = json.load(handle)
    rows = dict((row["machine"], row) for row in summary["machines"])
    online = rows[config["defender_machine_name"]]
    assert summary["ticket"] == "INC-TEST-1", summary
    assert online["quarantine"]["status"] == "Succeeded", online
    assert online["forensics"]["status"] == "Succeeded", online
    assert online["quarantine"]["ok"] and online["forensics"]["ok"], online
    assert online["containment"]["isolation"] == "isolated" and online["containment"]["ok"], online
    assert [b["type"] for b in summary["block"]] == ["FileSha1"] and summary["block"][0]["ok"], summary["block"]
    directory = online["forensics"]["directory"]
    # <name>-<first 12 hex of the id>: two devices never share a folder
    folder = "%s-%s" % (config["defender_machine_name"], config["defender_machine_id"][:12])
    assert directory == os.path.join(os.path.realpath(out), folder, online["forensics"]["action_id"]), directory
    with open(os.path.join(directory, "manifest.json")) as handle:
        manifest = json.load(handle)
    assert manifest["action_id"] == online["forensics"]["action_id"]
    for entry in online["forensics"]["files"]:
        assert sha256(os.path.join(directory, entry["name"])) == entry["sha256"], entry
        assert entry["sha256"] in [f["sha256"] for f in manifest["files"]]
    with open(os.path.join(out, "summary.txt")) as handle:
        text = handle.read()
    assert config["defender_machine_name"] in text and online["forensics"]["files"][0]["sha256"] in text
    if config.get("defender_emulator"):
        state = emulator_state(config)
        blocked = [i for i in state["indicators"] if i["indicatorValue"] == summary["sha1"]]
        assert len(blocked) == 1 and blocked[0]["action"] == "BlockAndRemediate", blocked
        isolations = [a for a in state["actions"] if a["machineId"] == config["defender_machine_id"]
                      and a["type"] == "Isolate" and a["status"] == "Succeeded"]
        assert isolations, "the online device was not isolated"
        offline = rows[config["defender_offline_machine_id"]]
        assert offline["quarantine"]["status"] == "TimeOut", offline
        assert offline["forensics"]["status"] == "TimeOut", offline
        assert int(rc) != 0, "the playbook must fail when a device needs attention"
        assert "1 of 2 device(s) need attention" in log and config["defender_offline_machine_id"] in log
    else:
        assert int(rc) == 0, log[-2000:]
    print("incident_response summary, evidence and manifest check out")


if __name__ == "__main__":
    main(*sys.argv[1:])
