"""Check the release run of incident_response: the online device's newest isolation action is a release."""

import json
import sys

from check_summary import emulator_state


def main(config_path, log_path):
    with open(config_path) as handle:
        config = json.load(handle)
    with open(log_path) as handle:
        log = handle.read()
    assert "One line per device, containment released" in log, log[-2000:]
    if config.get("defender_emulator"):
        state = emulator_state(config)
        mine = sorted((a for a in state["actions"] if a["machineId"] == config["defender_machine_id"]
                       and a["type"] in ("Isolate", "Unisolate") and a["status"] == "Succeeded"),
                      key=lambda a: a["creationDateTimeUtc"])
        assert mine and mine[-1]["type"] == "Unisolate", mine
    print("incident_response release checks out")


if __name__ == "__main__":
    main(*sys.argv[1:])
