"""Set up the rulebook run (an alert, the shipped rulebook polling once, inventory, connection variables), reset
the emulator afterwards, or check what the run left behind."""

import json
import os
import shlex
import sys

import requests
import yaml

RULEBOOK = os.path.join("extensions", "eda", "rulebooks", "quarantine_and_isolate.yml")
SHA1 = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff"


def control(emulator, method, path, body=None):
    response = requests.request(method, emulator["control_url"] + path, json=body, timeout=10,
                                headers={"X-Emulator-Key": emulator["control_key"]}, verify=emulator["ca_path"])
    response.raise_for_status()
    return response.json()


def shipped_rulebook():
    roots = (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or "")
    for root in [r for r in roots.split(os.pathsep) if r]:
        path = os.path.join(root, "ansible_collections", "secops", "defender", RULEBOOK)
        if os.path.exists(path):
            return path
    raise SystemExit("the shipped rulebook was not found under %s" % roots)


def setup(config, out):
    emulator = config["defender_emulator"]
    control(emulator, "POST", "/settings", {"clock_speed": 30})
    control(emulator, "POST", "/alerts", {
        "title": "secops rulebook test", "severity": "High", "machineId": config["defender_machine_id"],
        "evidence": [{"entityType": "File", "sha1": SHA1, "fileName": "loader.exe"}]})
    with open(shipped_rulebook()) as handle:
        rulebook = yaml.safe_load(handle)
    # The shipped rules, with the source told to poll once (so the run ends) and to keep its checkpoint here.
    source = rulebook[0]["sources"][0]["secops.defender.alerts"]
    source.update(once=True, lookback="7d", checkpoint=os.path.join(out, "checkpoint.json"))
    rulebook[0]["rules"][0]["action"]["run_playbook"]["extra_vars"] = {"remediate_poll_interval": 1}
    with open(os.path.join(out, "rulebook.yml"), "w") as handle:
        yaml.safe_dump(rulebook, handle)
    with open(os.path.join(out, "inventory.yml"), "w") as handle:
        yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                        "ansible_python_interpreter": sys.executable}}}}, handle)
    auth = config["defender_auth"]
    names = {"tenant_id": "DEFENDER_TENANT_ID", "client_id": "DEFENDER_CLIENT_ID",
             "client_secret": "DEFENDER_CLIENT_SECRET", "api_url": "DEFENDER_API_URL",
             "authority_url": "DEFENDER_AUTHORITY_URL", "ca_path": "DEFENDER_CA_PATH",
             "token_cache_dir": "DEFENDER_TOKEN_CACHE_DIR"}
    with open(os.path.join(out, "env.sh"), "w") as handle:
        for key, variable in names.items():
            if auth.get(key):
                handle.write("export %s=%s\n" % (variable, shlex.quote(str(auth[key]))))


def check(config):
    state = control(config["defender_emulator"], "GET", "/state")
    device = config["defender_machine_id"]
    quarantines = [a for a in state["actions"] if a["machineId"] == device and a["type"] == "StopAndQuarantineFile"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    isolations = sorted((a for a in state["actions"] if a["machineId"] == device
                         and a["type"] in ("Isolate", "Unisolate")), key=lambda a: a["creationDateTimeUtc"])
    assert [a["status"] for a in quarantines] == ["Succeeded"], quarantines
    assert isolations and isolations[-1]["type"] == "Isolate" and isolations[-1]["status"] == "Succeeded", isolations
    print("the rulebook quarantined %s and isolated %s" % (SHA1, device))


def main(config_path, out, mode="setup"):
    with open(config_path) as handle:
        config = json.load(handle)
    if not config.get("defender_emulator"):
        print("not on the emulator: skipped")
        sys.exit(3)
    if mode == "reset":
        control(config["defender_emulator"], "POST", "/settings", {"clock_speed": 1})
    elif mode == "check":
        check(config)
    else:
        setup(config, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
