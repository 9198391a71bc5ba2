"""Clear the emulator's log, or check after the forks: one POST, one action, and every fork reports it."""

import json
import sys

import requests

SHA1 = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f030"


def control(config, method, path):
    emulator = config["defender_emulator"]
    response = requests.request(method, emulator["control_url"] + path, verify=emulator["ca_path"], timeout=10,
                                headers={"X-Emulator-Key": emulator["control_key"]})
    response.raise_for_status()
    return response.json()


def main(config_path, what, results_path=None):
    with open(config_path) as handle:
        config = json.load(handle)
    if what == "clear":
        control(config, "DELETE", "/log")
        return
    with open(results_path) as handle:
        forks = json.load(handle)
    # A POST answered 401 (a cached token expired on the emulated clock) did nothing and is sent again.
    posts = [e for e in control(config, "GET", "/log")["value"]
             if e["method"] == "POST" and e["path"].endswith("/StopAndQuarantineFile") and e["status"] != 401]
    actions = [a for a in control(config, "GET", "/state")["actions"]
               if (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    reported = set(f["action_id"] for f in forks)
    changed = [f for f in forks if f["changed"]]
    print("forks: %d, POSTs: %d, actions: %d, reported ids: %d, changed: %d"
          % (len(forks), len(posts), len(actions), len(reported), len(changed)))
    assert len(forks) == 30, len(forks)
    assert len(posts) == 1, posts
    assert len(actions) == 1, actions
    assert reported == {actions[0]["id"]}, reported
    assert len(changed) == 1, "exactly one fork submitted"


if __name__ == "__main__":
    main(*sys.argv[1:])
