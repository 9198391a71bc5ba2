"""Check what incident_response left on the incident's alerts (on the emulator; elsewhere exit 3: nothing to check).

python check_alerts.py CONFIG MODE
  partial      da_secops_incident_partial: InProgress, assigned to the automation, one comment naming the offline
               device's failures (with their action ids) and the online device's actions
  done         da_secops_incident_done: Resolved as TruePositive / Other, one comment naming each action
  clear-log    clear the request log
  no-writes    the log has no write to the API at all since it was cleared
"""

import json
import sys

import requests

from emulator_settings import ALERTS

OWNER = "secops.defender automation"
SHA1 = "abcdefabcdefabcdefabcdefabcdefabcdef0099"


def control(emulator, method, path):
    response = requests.request(method, emulator["control_url"] + path, timeout=10, verify=emulator["ca_path"],
                                headers={"X-Emulator-Key": emulator["control_key"]})
    response.raise_for_status()
    return response.json()


def main(config_path, mode):
    with open(config_path) as handle:
        config = json.load(handle)
    emulator = config.get("defender_emulator")
    if not emulator:
        sys.exit(3)
    if mode == "clear-log":
        control(emulator, "DELETE", "/log")
        return
    if mode == "no-writes":
        sent = [(e["method"], e["path"]) for e in control(emulator, "GET", "/log")["value"] if e["host"] == "api"
                and e["path"].startswith("/api/") and e["method"] in ("POST", "PATCH", "PUT", "DELETE")]
        assert sent == [], sent
        print("nothing was written")
        return
    state = control(emulator, "GET", "/state")
    alerts = dict((a["id"], a) for a in state["alerts"])
    names = dict((m["id"], m["computerDnsName"]) for m in state["machines"])
    online, offline = config["defender_machine_id"], config["defender_offline_machine_id"]
    mine = [a for a in state["actions"] if a["machineId"] == online and a["type"] == "StopAndQuarantineFile"
            and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    quarantine = "StopAndQuarantineFile %s on %s: action %s Succeeded" % (SHA1, names[online], mine[-1]["id"])
    if mode == "partial":
        alert = alerts[ALERTS[0]]
        assert (alert["status"], alert["assignedTo"]) == ("InProgress", OWNER), alert
        comments = [c["comment"] for c in alert["comments"]]
        assert len(comments) == 1, comments
        lines = comments[0].splitlines()
        assert "stays InProgress" in lines[0] and "Done:" in lines and "Failed:" in lines, lines
        assert quarantine in lines, (quarantine, lines)
        timed_out = [a for a in state["actions"] if a["machineId"] == offline and a["type"] == "StopAndQuarantineFile"
                     and a["status"] == "TimeOut"]
        failed = "StopAndQuarantineFile %s on %s failed (TimeOut, action %s): " % (
            SHA1, names[offline], timed_out[-1]["id"])
        assert [line for line in lines if line.startswith(failed)], (failed, lines)
        assert "correlation" not in comments[0].lower(), comments[0]
        print("alert %s: InProgress, one comment naming the offline device's failures" % ALERTS[0])
    elif mode == "done":
        alert = alerts[ALERTS[1]]
        assert (alert["status"], alert["classification"], alert["determination"]) == (
            "Resolved", "TruePositive", "Other"), alert
        comments = [c["comment"] for c in alert["comments"]]
        assert len(comments) == 1, comments
        lines = comments[0].splitlines()
        assert quarantine in lines, (quarantine, lines)
        indicator = [i for i in state["indicators"] if i["indicatorValue"] == SHA1][0]
        assert "Indicator FileSha1 %s BlockAndRemediate: id %s" % (SHA1, indicator["id"]) in lines, lines
        assert [line for line in lines if line.startswith("LiveResponse on %s: action " % names[online])
                and line.endswith(" Succeeded")], lines
        print("alert %s: Resolved, one comment naming every action" % ALERTS[1])
    else:
        raise SystemExit("unknown mode %s" % mode)


if __name__ == "__main__":
    main(*sys.argv[1:])
