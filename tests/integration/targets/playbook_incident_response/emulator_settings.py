"""Make offline devices time out within seconds on the emulator, seed the incident's alerts (and write the device
list and the alert ids); a no-op elsewhere."""

import json
import sys

import requests

# At 2400x an hour's token lasts 1.5 real seconds and a 30-minute download link 0.75: on a busy machine both
# expired between being issued and being used. Scale their lifetimes with the clock so that only the offline
# devices' queue limit is fast.
SPEED = 2400
FAST = {"clock_speed": SPEED, "queue_limit_seconds": 7200, "token_lifetime_seconds": 3599 * SPEED,
        "link_lifetime_seconds": 1800 * SPEED}
# The incident's alerts: one for the run with the offline device (it cannot be remediated everywhere), one for the run
# on the online device alone.
ALERTS = ["da_secops_incident_partial", "da_secops_incident_done"]
NORMAL = {"clock_speed": 1, "queue_limit_seconds": 259200, "token_lifetime_seconds": 3599,
          "link_lifetime_seconds": 1800}


def main(config_path, mode):
    with open(config_path) as handle:
        config = json.load(handle)
    machines = [config["defender_machine_name"]]
    emulator = config.get("defender_emulator")
    if emulator:
        machines.append(config["defender_offline_machine_id"])
        requests.post(emulator["control_url"] + "/settings", json=FAST if mode == "fast" else NORMAL,
                      headers={"X-Emulator-Key": emulator["control_key"]}, verify=emulator["ca_path"],
                      timeout=10).raise_for_status()
        if mode == "fast":
            requests.post(emulator["control_url"] + "/seed", json={"alerts": [
                {"id": alert_id, "title": "secops incident test", "severity": "Medium",
                 "machineId": config["defender_machine_id"]} for alert_id in ALERTS]},
                headers={"X-Emulator-Key": emulator["control_key"]}, verify=emulator["ca_path"],
                timeout=10).raise_for_status()
    with open("machines.json", "w") as handle:
        json.dump({"incident_machines": machines, "incident_forensic_paths": [config["defender_getfile_path"]],
                   "incident_alert_ids": ALERTS[:1] if emulator else []}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
