"""The checks of the gitops_example target, one subcommand per step of runme.sh, from the emulator's control API
(request log and state) and the playbook's output."""

import hashlib
import json
import os
import re
import sys

import requests

FAST = {"clock_speed": 30}
NORMAL = {"clock_speed": 1}
ISOLATED = "ws-fin-002.corp.example.com"
RELEASED = "ws-fin-001.corp.example.com"
PREFIX = "gitops_"


def load(config_path):
    with open(config_path) as handle:
        return json.load(handle)


def control(config, method, path, body=None):
    emulator = config["defender_emulator"]
    response = requests.request(method, emulator["control_url"] + path, json=body, verify=emulator["ca_path"],
                                headers={"X-Emulator-Key": emulator["control_key"]}, timeout=30)
    response.raise_for_status()
    return response.json()


def api_writes(config):
    """The API's writes; one answered 401 (a cached token expired on the fast emulated clock) did nothing."""
    return [(e["method"], e["path"]) for e in control(config, "GET", "/log")["value"]
            if e["host"] == "api" and e["path"].lower().startswith("/api/") and e["method"] != "GET"
            and e["status"] != 401]


def tasks(log):
    """{task name: its part of the output} (the last run of a name wins)."""
    parts = re.split(r"^TASK \[(.+?)\] \**$", log, flags=re.M)
    return dict((parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2))


def recap_changed(log):
    found = re.search(r"^localhost\s+:.*?changed=(\d+).*?failed=(\d+)", log, flags=re.M)
    assert found, log[-2000:]
    return int(found.group(1)), int(found.group(2))


def machine_by_name(state, name):
    return [m for m in state["machines"] if m["computerDnsName"] == name][0]


def newest(state, machine_id, types):
    found = sorted((a for a in state["actions"] if a["machineId"] == machine_id and a["type"] in types
                    and a["status"] in ("Pending", "InProgress", "Succeeded")), key=lambda a: a["creationDateTimeUtc"])
    return found[-1] if found else None


def outside_scope(state):
    return dict((f["fileName"], f) for f in state["library"] if not f["fileName"].lower().startswith(PREFIX))


def check_diff(part, task, *lines):
    assert "--- before" in part and "+++ after" in part, "no diff in task %s:\n%s" % (task, part)
    for line in lines:
        assert re.search(line, part, flags=re.M), "task %s: no line matching %r in:\n%s" % (task, line, part)


def main(config_path, step, *args):
    config = load(config_path)
    if step == "on-emulator":
        sys.exit(0 if config.get("defender_emulator") else 1)
    if step == "example-dir":
        for base in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
            path = os.path.join(base, "ansible_collections", "secops", "defender", "examples", "gitops")
            if os.path.isdir(path):
                print(path)
                return
        raise SystemExit("examples/gitops not found under ANSIBLE_COLLECTIONS_PATH")
    if step in ("fast-clock", "normal-clock"):
        control(config, "POST", "/settings", FAST if step == "fast-clock" else NORMAL)
    elif step == "clear-log":
        control(config, "DELETE", "/log")
    elif step == "snapshot":
        with open(args[0], "w") as handle:
            json.dump({"outside": outside_scope(control(config, "GET", "/state"))}, handle)
        control(config, "DELETE", "/log")
    elif step == "checked":
        with open(args[0]) as handle:
            log = handle.read()
        assert api_writes(config) == [], api_writes(config)
        found = tasks(log)
        # A diff per kind this example drives through containment and the library (indicators and tags report a
        # change; their own diff comes with their modules).
        check_diff(found["Isolated devices"], "Isolated devices",
                   r'^-\s+"%s": "released"' % re.escape(ISOLATED), r'^\+\s+"%s": "isolated \(Full\)"' % re.escape(ISOLATED))
        check_diff(found["Devices restricted to Microsoft-signed code"], "restricted",
                   r'^-\s+"%s": "released"' % re.escape(ISOLATED), r'^\+\s+"%s": "restricted"' % re.escape(ISOLATED))
        library = found["Live response library, files named gitops_library_prefix"]
        check_diff(library, "library", r'^\+\s+"gitops_collect_triage.ps1": \{', r'^-\s+"gitops_retired.ps1": \{')
        assert not re.search(r'^[-+]\s+"gitops-keep.ps1"', library, flags=re.M), library
        assert "gitops-keep.ps1" not in library, library
        indicators = found["Indicators, exclusive within the title prefix"]
        check_diff(indicators, "indicators", r'^\+\s+"login-update.gitops-example.net \(DomainName\)": \{',
                   r'^-\s+"retired.gitops-example.net \(DomainName\)": \{')
        assert "keep.gitops-example.net" not in indicators, indicators
        check_diff(found["Device tag ir-hold"], "tags", r'^\+\s+"ir-hold"')
        check_diff(found["Device tag gitops-managed"], "tags", r'^\+\s+"gitops-managed"')
        changed, failed = recap_changed(log)
        assert failed == 0 and changed >= 5, (changed, failed)
    elif step == "applied":
        log_path, before_path, repo = args
        with open(before_path) as handle:
            before = json.load(handle)
        state = control(config, "GET", "/state")
        writes = api_writes(config)
        assert writes, "the apply wrote nothing"
        isolated, released = machine_by_name(state, ISOLATED), machine_by_name(state, RELEASED)
        isolation = newest(state, isolated["id"], ("Isolate", "Unisolate"))
        assert isolation["type"] == "Isolate" and isolation["scope"] == "Full", isolation
        assert isolation["status"] == "Succeeded" and "abc1234" in isolation["requestorComment"], isolation
        restriction = newest(state, isolated["id"], ("RestrictCodeExecution", "UnrestrictCodeExecution"))
        assert restriction["type"] == "RestrictCodeExecution", restriction
        for machine in (released,):
            for pair in (("Isolate", "Unisolate"), ("RestrictCodeExecution", "UnrestrictCodeExecution")):
                action = newest(state, machine["id"], pair)
                assert action is None or action["type"] == pair[1], action
        names = dict((m["computerDnsName"], m) for m in state["machines"])
        assert "ir-hold" in names[ISOLATED]["machineTags"], names[ISOLATED]
        assert "ir-hold" not in names[RELEASED]["machineTags"], names[RELEASED]
        for name in (ISOLATED, RELEASED, "srv-web-01.corp.example.com"):
            assert "gitops-managed" in names[name]["machineTags"], names[name]
        values = set(i["indicatorValue"] for i in state["indicators"])
        assert {"login-update.gitops-example.net", "203.0.113.77"} <= values, values
        assert "retired.gitops-example.net" not in values and "keep.gitops-example.net" in values, values
        # The library holds exactly the folder's scripts within the scope, each with the folder's content ...
        scripts = os.path.join(repo, "scripts")
        wanted = {}
        for name in os.listdir(scripts):
            with open(os.path.join(scripts, name), "rb") as handle:
                wanted[name] = hashlib.sha256(handle.read()).hexdigest()
        scoped = dict((f["fileName"], f["sha256"]) for f in state["library"] if f["fileName"].lower().startswith(PREFIX))
        assert scoped == wanted, (scoped, wanted)
        # ... only the changed one was uploaded, the stale one deleted, and nothing outside the scope touched.
        library_writes = [w for w in writes if w[1].lower().startswith("/api/libraryfiles")]
        assert library_writes == [("POST", "/api/libraryfiles"), ("DELETE", "/api/libraryfiles/gitops_retired.ps1")], \
            library_writes
        assert outside_scope(state) == before["outside"], (outside_scope(state), before["outside"])
        with open(log_path) as handle:
            changed, failed = recap_changed(handle.read())
        assert failed == 0 and changed >= 5, (changed, failed)
    elif step == "rerun":
        with open(args[0]) as handle:
            changed, failed = recap_changed(handle.read())
        assert (changed, failed) == (0, 0), (changed, failed)
        assert api_writes(config) == [], api_writes(config)
    else:
        raise SystemExit("unknown step %s" % step)


if __name__ == "__main__":
    main(*sys.argv[1:])
