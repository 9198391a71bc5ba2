"""The remediation left a quarantine of the alert's SHA-1, an isolation on its device and a block indicator."""

import json
import sys

from make_event import SHA1, control


def main(config_path, event_path):
    with open(config_path) as handle:
        config = json.load(handle)
    with open(event_path) as handle:
        event = json.load(handle)["ansible_eda"]["event"]
    emulator = config["defender_emulator"]
    state = control(emulator, "GET", "/state")
    device = event["machine_id"]
    quarantines = [a for a in state["actions"] if a["machineId"] == device and a["type"] == "StopAndQuarantineFile"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    isolations = sorted((a for a in state["actions"] if a["machineId"] == device and a["type"] in ("Isolate",
                                                                                                   "Unisolate")),
                        key=lambda a: a["creationDateTimeUtc"])
    assert [a["status"] for a in quarantines] == ["Succeeded"], quarantines
    assert isolations and isolations[-1]["type"] == "Isolate" and isolations[-1]["status"] == "Succeeded", isolations
    assert [i["action"] for i in state["indicators"] if i["indicatorValue"] == SHA1] == ["BlockAndRemediate"]
    print("remediate_alert checks out")


if __name__ == "__main__":
    main(*sys.argv[1:])
