"""Seed 30 devices and write the inventory, clear the emulator's log, or check a run of the per-host play."""

import collections
import json
import sys

import requests

SHA1 = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c025"
HOSTS = 30
IDS = ["%040x" % (0xc0a1e5ced000 + i) for i in range(HOSTS)]


def control(config, method, path, body=None):
    emulator = config["defender_emulator"]
    response = requests.request(method, emulator["control_url"] + path, verify=emulator["ca_path"], timeout=10,
                                json=body, headers={"X-Emulator-Key": emulator["control_key"]})
    response.raise_for_status()
    return response.json()


def seed(config, inventory, python):
    machines = [{"id": m, "computerDnsName": "coalesced-%02d.corp.example.com" % i, "osPlatform": "Windows11"}
                for i, m in enumerate(IDS)]
    control(config, "POST", "/seed", {"machines": machines})
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n")
        for i, machine_id in enumerate(IDS):
            handle.write("host%02d defender_id=%s ansible_connection=local ansible_python_interpreter=%s\n"
                         % (i, machine_id, python))


def check(config, run, results_path):
    with open(results_path) as handle:
        hosts = json.load(handle)
    calls = [e for e in control(config, "GET", "/log")["value"] if e["host"] == "api" and e["path"].startswith("/api/")]
    posts = [e for e in calls if e["method"] == "POST"]
    lookups = [e for e in calls if e["method"] == "GET" and e["path"] == "/api/machineactions"]
    gets = [e for e in calls if e["method"] == "GET" and e["path"].startswith("/api/machineactions/")]
    actions = [a for a in control(config, "GET", "/state")["actions"]
               if (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    per_device = collections.Counter(a["machineId"] for a in actions)
    print("%s: hosts %d, API calls %d = %.2f per device (list queries %d, POSTs %d, GETs of one action %d), "
          "actions %d" % (run, len(hosts), len(calls), len(calls) / float(HOSTS), len(lookups), len(posts), len(gets),
                          len(actions)))
    assert len(hosts) == HOSTS, len(hosts)
    assert not [h for h in hosts if h.get("failed")], hosts
    # Sharing needs two tasks to arrive within a few seconds of each other: with 25 forks starting at once, they do.
    # Lone tasks would make one device-only look-up each.
    assert len(lookups) < HOSTS, lookups
    if run == "check":
        assert posts == [] and actions == [], posts
        assert all(h["changed"] for h in hosts)
        return
    assert sorted(per_device) == sorted(IDS) and max(per_device.values()) == 1, per_device   # no duplicates
    assert set(h["action_id"] for h in hosts) == set(a["id"] for a in actions)
    if run == "real":
        assert len(posts) == HOSTS and all(h["changed"] for h in hosts), posts
        assert all(h["status"] == "Succeeded" for h in hosts)
        assert any("machineId" not in (e.get("query") or {}).get("$filter", "") for e in lookups), lookups
    else:  # idempotent: nothing written, nothing changed
        assert posts == [] and not [h for h in hosts if h["changed"]], posts


def main(config_path, what, *args):
    with open(config_path) as handle:
        config = json.load(handle)
    if what == "seed":
        seed(config, *args)
    elif what == "clear":
        control(config, "DELETE", "/log")
    else:
        check(config, what, *args)


if __name__ == "__main__":
    main(*sys.argv[1:])
