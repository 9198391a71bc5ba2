"""Two emulated tenants read into one inventory, and one play acting in each through its own connection.

Each tenant is an emulator of its own (its own CA, sign-in, app and devices); the devices of both carry the same
names, as two customers' machines often do. What must hold:
- the inventory has one host per device per tenant, named <tenant>.<name>, with defender_tenant and
  defender_tenant_id, in the group tenant_<name>; each tenant saw one sign-in and one device query;
- a tenant that cannot be read fails the inventory with its name (tenant_errors=fail) or is left out with a
  warning naming it (tenant_errors=warn);
- the play isolates each tenant's finance devices with one fleet task per tenant: check mode sends nothing, the
  real run makes exactly one isolation per finance device in its own tenant and none elsewhere, and the rerun
  makes nothing new.
"""

import json
import os
import signal
import subprocess
import sys
import time

import requests

RESPONDER = "11111111-1111-4111-8111-111111111111"
TENANTS = {"alpha": "a1a1a1a1-0000-4000-8000-00000000a1a1", "beta": "b2b2b2b2-0000-4000-8000-00000000b2b2"}


def seed(tenant_id, id_prefix):
    """The default seed's app and devices, with device ids of this tenant's own (names are kept: they clash)."""
    from mde_emulator.seeding import load_seed
    base = load_seed("default")
    machines = []
    for machine in base["machines"]:
        machines.append(dict(machine, id=id_prefix + machine["id"][len(id_prefix):]))
    return {"tenant_id": tenant_id, "apps": base["apps"], "machines": machines,
            "settings": {"clock_speed": 30}}


class Emulator:
    def __init__(self, workdir, name, seed_data):
        self.name = name
        self.dir = os.path.join(workdir, "emulator-%s" % name)
        os.makedirs(self.dir)
        seed_path = os.path.join(self.dir, "seed.json")
        with open(seed_path, "w") as handle:
            json.dump(seed_data, handle)
        info_path = os.path.join(self.dir, "info.json")
        self.log = open(os.path.join(self.dir, "emulator.log"), "w")
        self.process = subprocess.Popen(["mde-emulator", "--seed", seed_path, "--state-dir", self.dir,
                                         "--info-file", info_path], stdout=self.log, stderr=subprocess.STDOUT)
        for _attempt in range(600):
            if os.path.exists(info_path) and os.path.getsize(info_path) or self.process.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(info_path):
            self.log.close()
            with open(self.log.name) as log:
                raise SystemExit("the emulator of %s did not start:\n%s" % (name, log.read()))
        with open(info_path) as handle:
            self.info = json.load(handle)
        self.machines = seed_data["machines"]

    def connection(self, cache_dir, **overrides):
        apps = dict((a["client_id"], a) for a in self.info["apps"])
        connection = {"tenant_id": self.info["tenant_id"], "client_id": RESPONDER,
                      "client_secret": apps[RESPONDER]["client_secret"], "api_url": self.info["api_url"],
                      "authority_url": self.info["authority_url"], "ca_path": self.info["ca_path"],
                      "token_cache_dir": cache_dir}
        connection.update(overrides)
        return connection

    def control(self, method, path, body=None):
        response = requests.request(method, self.info["control_url"] + path, json=body, timeout=30,
                                    headers={"X-Emulator-Key": self.info["control_key"]}, verify=self.info["ca_path"])
        response.raise_for_status()
        return response.json()

    def calls(self):
        """(method, path) of every sign-in and API call since the log was last cleared."""
        return [(e["method"], e["path"]) for e in self.control("GET", "/log")["value"] if e["host"] == "api"]

    def isolations(self):
        actions = self.control("GET", "/state")["actions"]
        return sorted(a["machineId"] for a in actions if a["type"] == "Isolate")

    def finance_ids(self):
        return sorted(m["id"] for m in self.machines if "finance" in (m.get("machineTags") or []))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def run(args, **kwargs):
    out = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    return out.returncode, out.stdout, out.stderr


def plain(value):
    """ansible-inventory --list shows unsafe values as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def write_inventory(path, tenants, **options):
    data = dict(plugin="secops.defender.machines", tenants=tenants, **options)
    with open(path, "w") as handle:
        json.dump(data, handle)   # JSON is YAML
    return path


def check_inventory(workdir, emulators, entries):
    path = write_inventory(os.path.join(workdir, "customers.defender.yml"), entries)
    for emulator in emulators.values():
        emulator.control("DELETE", "/log")
    code, stdout, stderr = run(["ansible-inventory", "-i", path, "--list"])
    assert code == 0, stdout + stderr
    listed = plain(json.loads(stdout))
    hostvars = listed["_meta"]["hostvars"]
    for name, emulator in emulators.items():
        group = listed.get("tenant_%s" % name, {}).get("hosts", [])
        expected = sorted("%s.%s" % (name, m["computerDnsName"]) for m in emulator.machines)
        assert sorted(group) == expected, (name, group, expected)
        for host in group:
            variables = hostvars[host]
            assert variables["defender_tenant"] == name, variables
            assert variables["defender_tenant_id"] == emulator.info["tenant_id"], variables
            assert variables["defender_id"] in [m["id"] for m in emulator.machines], variables
        calls = emulator.calls()
        api = [path for method, path in calls if path.startswith("/api/")]
        signins = [path for method, path in calls if path.endswith("/oauth2/v2.0/token")]
        assert api == ["/api/machines"], (name, calls)
        assert len(signins) == 1 and signins[0].startswith("/%s/" % emulator.info["tenant_id"]), (name, calls)
    # the same device name in both tenants: two hosts
    first = emulators["alpha"].machines[0]["computerDnsName"]
    assert "alpha.%s" % first in hostvars and "beta.%s" % first in hostvars, sorted(hostvars)
    print("inventory: %d hosts from %d tenants, one sign-in and one device query each"
          % (len(hostvars), len(emulators)))
    return path


def check_tenant_errors(workdir, entries, cache_dir):
    broken = dict(entries[1], name="gamma", client_secret="not-the-secret")
    failing = write_inventory(os.path.join(workdir, "fail.defender.yml"), entries + [broken])
    code, stdout, stderr = run(["ansible-inventory", "-i", failing, "--list"])
    listed = json.loads(stdout) if code == 0 else {}
    # ansible-inventory turns a plugin's error into a warning and an empty inventory, or fails: either way no hosts
    assert not listed.get("_meta", {}).get("hostvars"), stdout
    assert "tenant gamma" in stderr, stderr
    warning = write_inventory(os.path.join(workdir, "warn.defender.yml"), entries + [broken], tenant_errors="warn")
    code, stdout, stderr = run(["ansible-inventory", "-i", warning, "--list"])
    assert code == 0, stdout + stderr
    listed = json.loads(stdout)
    assert "tenant gamma was not read" in " ".join(stderr.split()), stderr
    assert "not-the-secret" not in stdout + stderr
    assert listed.get("tenant_alpha") and listed.get("tenant_beta") and not listed.get("tenant_gamma"), listed
    print("tenant_errors: fail names the tenant; warn leaves it out and reads the others")


def run_play(workdir, inventory, connections, name, check):
    results = os.path.join(workdir, "%s.json" % name)
    extra = {"defender_tenants": connections, "results_path": results}
    args = ["ansible-playbook", "-i", inventory, "-e", json.dumps(extra), "play.yml"]
    code, stdout, stderr = run(args + (["--check"] if check else []))
    assert code == 0, stdout + stderr
    for connection in connections.values():
        assert connection["client_secret"] not in stdout + stderr
    with open(results) as handle:
        return json.load(handle)


def check_play(workdir, inventory, emulators, connections):
    for emulator in emulators.values():
        emulator.control("DELETE", "/log")
    predicted = run_play(workdir, inventory, connections, "check", check=True)
    for name, emulator in emulators.items():
        assert predicted[name]["changed"], predicted[name]
        assert not [c for c in emulator.calls() if c[0] == "POST" and c[1].startswith("/api/")], emulator.calls()
        assert emulator.isolations() == [], name
    done = run_play(workdir, inventory, connections, "apply", check=False)
    for name, emulator in emulators.items():
        assert done[name]["changed"], done[name]
        assert emulator.isolations() == emulator.finance_ids(), (name, emulator.isolations())
    for emulator in emulators.values():
        emulator.control("DELETE", "/log")
    again = run_play(workdir, inventory, connections, "rerun", check=False)
    for name, emulator in emulators.items():
        assert not again[name]["changed"], again[name]
        assert not [c for c in emulator.calls() if c[0] == "POST" and c[1].startswith("/api/")], emulator.calls()
        assert emulator.isolations() == emulator.finance_ids(), name
    print("play: check sent nothing; the apply isolated %s; the rerun sent nothing"
          % ", ".join("%d in %s" % (len(e.finance_ids()), n) for n, e in emulators.items()))


def main(workdir):
    os.makedirs(workdir, exist_ok=True)
    cache_dir = os.path.join(workdir, "state")
    emulators = {}
    try:
        emulators["alpha"] = Emulator(workdir, "alpha", seed(TENANTS["alpha"], "aa"))
        emulators["beta"] = Emulator(workdir, "beta", seed(TENANTS["beta"], "bb"))
        connections = dict((name, e.connection(cache_dir)) for name, e in emulators.items())
        entries = [dict(connection, name=name) for name, connection in connections.items()]
        inventory = check_inventory(workdir, emulators, entries)
        check_tenant_errors(workdir, entries, cache_dir)
        check_play(workdir, inventory, emulators, connections)
    finally:
        for emulator in emulators.values():
            emulator.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
