"""The emulator side of the crash test: seed ten devices, wait until sessions started, let them finish, and check
that no device got a second session and that every manifest matches its files."""

import hashlib
import json
import os
import sys
import time

import requests

COUNT = 10
PREFIX = "c7a5"
GETFILE = "C:\\Windows\\Temp\\crash-triage.bin"
COMMENT = "INC-26: crash test"


def control(config, method, path, body=None):
    emulator = config["defender_emulator"]
    response = requests.request(method, emulator["control_url"] + path, json=body, verify=emulator["ca_path"],
                                timeout=30, headers={"X-Emulator-Key": emulator["control_key"]})
    response.raise_for_status()
    return response.json()


def machine_ids():
    return ["%s%036x" % (PREFIX, i) for i in range(COUNT)]


def ours(config):
    ids = set(machine_ids())
    return [a for a in control(config, "GET", "/state")["actions"]
            if a["type"] == "LiveResponse" and a["machineId"] in ids]


def seed(config, out):
    # Two of the names collide once made safe, as a re-onboarded device's would.
    names = ["crash-%02d.corp.example.com" % i for i in range(COUNT)]
    names[1] = names[0]
    control(config, "POST", "/seed", {
        "machines": [{"id": m, "computerDnsName": n, "osPlatform": "Windows11"} for m, n in zip(machine_ids(), names)],
        # Long enough (emulated seconds, at clock speed 1) that the kill comes while sessions run.
        "scripts": {"crash_triage.ps1": {"exit_code": 0, "output": "collected", "duration_seconds": 60,
                                         "creates": {GETFILE: {"size": 50000}}}}})
    control(config, "POST", "/settings", {"clock_speed": 1})
    with open(os.path.join(out, "machines.json"), "w") as handle:
        json.dump(machine_ids(), handle)


def wait_started(config, least, pid):
    """Bounded: until at least `least` of our sessions exist (a busy machine can take its time), while the first
    run is alive."""
    for _attempt in range(1200):
        if len(ours(config)) >= least:
            print("sessions started: %d" % len(ours(config)))
            return
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit("the first run ended before %d sessions started" % least)
        time.sleep(0.5)
    sys.exit("no session started in time")


def finish(config):
    """Every session that started ends (Succeeded) before the rerun: their evidence was never fetched. Only the
    sessions that existed before the clock moved are checked: the first run's module lives on (ansible-core 2.19
    and later) and, on a busy machine, may start one of its throttled sessions just after the advance."""
    started = set(a["id"] for a in ours(config))
    control(config, "POST", "/clock", {"advance": 120})
    statuses = [a["status"] for a in ours(config) if a["id"] in started]
    print("before the rerun: %s" % statuses)
    assert statuses and set(statuses) == {"Succeeded"}, statuses


def check(config, results_path, first_count):
    with open(results_path) as handle:
        rows = json.load(handle)
    actions = ours(config)
    posts = [e for e in control(config, "GET", "/log")["value"]
             if e["method"] == "POST" and e["path"].lower().endswith("/runliveresponse")
             and e["path"].split("/")[3] in set(machine_ids())]
    per_device = {}
    for action in actions:
        per_device.setdefault(action["machineId"], []).append(action["id"])
    print("sessions: %d (first run %d), POSTs in the log: %d" % (len(actions), first_count, len(posts)))
    assert sorted(per_device) == sorted(machine_ids()), per_device
    assert all(len(v) == 1 for v in per_device.values()), "a device got a second session: %s" % per_device
    assert len(rows) == COUNT and all(r["ok"] for r in rows), rows
    folders = set()
    for row in rows:
        assert row["action_id"] == per_device[row["machine_id"]][0], row
        folders.add(row["directory"])
        with open(os.path.join(row["directory"], "manifest.json")) as handle:
            manifest = json.load(handle)
        assert manifest["action_id"] == row["action_id"] and manifest["machine"]["id"] == row["machine_id"]
        assert len(manifest["files"]) == 1, manifest["files"]
        for item in manifest["files"]:
            with open(os.path.join(row["directory"], item["name"]), "rb") as handle:
                data = handle.read()
            assert hashlib.sha256(data).hexdigest() == item["sha256"] and len(data) == item["size"], item
    assert len(folders) == COUNT, folders
    control(config, "POST", "/settings", {"clock_speed": 1})


def main(config_path, what, *args):
    with open(config_path) as handle:
        config = json.load(handle)
    if what == "seed":
        seed(config, *args)
    elif what == "wait-started":
        wait_started(config, int(args[0]), int(args[1]))
    elif what == "count":
        print(len(ours(config)))
    elif what == "throttle":
        control(config, "POST", "/faults", {"kind": "status", "status": 429, "retry_after": int(args[1]),
                                            "method": "POST", "path": "runliveresponse$", "count": int(args[0])})
    elif what == "finish":
        finish(config)
    elif what == "check":
        check(config, args[0], int(args[1]))


if __name__ == "__main__":
    main(*sys.argv[1:])
