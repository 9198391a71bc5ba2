"""Check what remediate_alert left in the emulator's state and request log.

python check_remediation.py CONFIG EVENT_JSON MODE [ARGS]
  actions                          a quarantine of the event's SHA-1 and an isolation of its device, and an indicator
  resolved CLASSIFICATION DET      the alert Resolved as CLASSIFICATION / DET, assigned to the automation, with exactly
                                   one comment naming each action (id, type, device, status) and the indicator
  failed                           the alert InProgress, with exactly one comment that names the refused quarantine
  no-writes                        the log since it was cleared has no write to the API at all (only reads)
  resolve-only                     the log's only write is one PATCH of the alert with {"status": "Resolved"}
  no-alert-writes                  the log has no write to /api/alerts
  clear-log                        clear the request log
  reopen                           set the alert InProgress again through the control API, its comments kept
"""

import json
import sys

from make_event import control

OWNER = "secops.defender automation"


def alert_of(state, alert_id):
    return [a for a in state["alerts"] if a["id"] == alert_id][0]


def writes(emulator, prefix="/api/"):
    log = control(emulator, "GET", "/log")["value"]
    return [e for e in log if e["host"] == "api" and e["method"] in ("POST", "PATCH", "PUT", "DELETE")
            and e["path"].startswith(prefix)]


def actions(state, device, sha1):
    quarantines = [a for a in state["actions"] if a["machineId"] == device and a["type"] == "StopAndQuarantineFile"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == sha1]
    isolations = sorted((a for a in state["actions"] if a["machineId"] == device and a["type"] in ("Isolate",
                                                                                                   "Unisolate")),
                        key=lambda a: a["creationDateTimeUtc"])
    return quarantines, isolations


def main(config_path, event_path, mode, *args):
    with open(config_path) as handle:
        config = json.load(handle)
    with open(event_path) as handle:
        event = json.load(handle)["ansible_eda"]["event"]
    emulator = config["defender_emulator"]
    device, alert_id = event["machine_id"], event["alert_id"]
    sha1 = event["sha1s"][0]
    if mode == "clear-log":
        control(emulator, "DELETE", "/log")
        return
    if mode == "reopen":
        control(emulator, "PATCH", "/alerts/%s" % alert_id, {"status": "InProgress"})
        return
    if mode == "no-writes":
        assert writes(emulator) == [], writes(emulator)
        print("nothing was written")
        return
    if mode == "no-alert-writes":
        assert writes(emulator, "/api/alerts") == [], writes(emulator, "/api/alerts")
        print("nothing was written to the alert")
        return
    if mode == "resolve-only":
        sent = writes(emulator)
        assert [(e["method"], e["path"], e["body"]) for e in sent] == [
            ("PATCH", "/api/alerts/%s" % alert_id, {"status": "Resolved"})], sent
        print("only the status was sent again, no second comment")
        return
    state = control(emulator, "GET", "/state")
    quarantines, isolations = actions(state, device, sha1)
    alert = alert_of(state, alert_id)
    comments = [c["comment"] for c in alert["comments"]]
    if mode == "actions":
        assert [a["status"] for a in quarantines] == ["Succeeded"], quarantines
        assert isolations and isolations[-1]["type"] == "Isolate" and isolations[-1]["status"] == "Succeeded", \
            isolations
        assert [i["action"] for i in state["indicators"] if i["indicatorValue"] == sha1] == ["BlockAndRemediate"]
        print("remediate_alert checks out")
    elif mode == "resolved":
        classification, determination = args
        assert (alert["status"], alert["classification"], alert["determination"], alert["assignedTo"]) == (
            "Resolved", classification, determination, OWNER), alert
        assert len(comments) == 1, comments
        name = config["defender_machine_name"]
        indicator = [i for i in state["indicators"] if i["indicatorValue"] == sha1][0]
        for line in ("StopAndQuarantineFile %s on %s: action %s Succeeded" % (sha1, name, quarantines[0]["id"]),
                     "Isolate (Full) on %s: action %s Succeeded" % (name, isolations[-1]["id"]),
                     "Indicator FileSha1 %s BlockAndRemediate: id %s" % (sha1, indicator["id"])):
            assert line in comments[0].splitlines(), (line, comments[0])
        print("alert %s: Resolved as %s / %s, one comment naming every action"
              % (alert_id, classification, determination))
    elif mode == "failed":
        assert (alert["status"], alert["assignedTo"]) == ("InProgress", OWNER), alert
        assert len(comments) == 1, comments
        lines = comments[0].splitlines()
        assert "stays InProgress" in lines[0], lines
        name = [m["computerDnsName"] for m in state["machines"] if m["id"] == device][0]
        refused = [line for line in lines if line.startswith("StopAndQuarantineFile %s on %s failed (NotSubmitted): "
                                                             "OsPlatformNotSupported: " % (sha1, name))]
        assert refused and "Linux" in refused[0], lines
        # The isolation did happen, and the comment says so.
        assert isolations and isolations[-1]["status"] == "Succeeded", isolations
        assert any(line.startswith("Isolate (Full) on ") and line.endswith(": action %s Succeeded" % isolations[-1]["id"])
                   for line in lines), lines
        assert "correlation" not in comments[0].lower(), comments[0]
        print("alert %s: InProgress, one comment naming the refused quarantine" % alert_id)
    else:
        raise SystemExit("unknown mode %s" % mode)


if __name__ == "__main__":
    main(*sys.argv[1:])
