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
    # A call answered 401 (a cached token expired on the emulated clock) did nothing and is sent again.
    calls = [e for e in control(config, "GET", "/log")["value"]
             if e["host"] == "api" and e["path"].startswith("/api/") and e["status"] != 401]
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
    # Without sharing, each task makes its own look-up and, for real, waiting, at least one poll (a GET of its
    # action): 1 list query or GET per device in check mode and again, at least 2 for real. 25 forks start
    # together, so the look-ups and polls are shared; how many rounds that takes is timing (a busy machine spreads
    # the forks' starts over many rounds), so the bound is what no run without sharing can meet, and at most one
    # POST per device. benchmarks/fleet.py (b, f) measures how few calls it takes.
    unshared = 2 * HOSTS if run == "real" else HOSTS
    assert len(lookups) + len(gets) < unshared, (len(lookups), len(gets))
    assert len(posts) <= HOSTS, len(posts)
    if run == "check":
        assert posts == [] and actions == [], posts
        assert all(h["changed"] for h in hosts)
        return
    assert sorted(per_device) == sorted(IDS) and max(per_device.values()) == 1, per_device   # no duplicates
    assert set(h["action_id"] for h in hosts) == set(a["id"] for a in actions)
    if run == "real":
        assert len(posts) == HOSTS and all(h["changed"] for h in hosts), posts
        assert all(h["status"] == "Succeeded" for h in hosts)
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
