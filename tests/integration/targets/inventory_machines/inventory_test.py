"""Run ansible-inventory and a lookup play against the configured tenant (the emulator in CI) and check them."""

import json
import os
import subprocess
import sys
import time

import requests


class Emulator:
    def __init__(self, config):
        self.info = config.get("defender_emulator")

    def call(self, method, path, body=None):
        if not self.info:
            return None
        response = requests.request(method, self.info["control_url"] + path, json=body, timeout=10,
                                    headers={"X-Emulator-Key": self.info["control_key"]}, verify=self.info["ca_path"])
        response.raise_for_status()
        return response.json()

    def api_calls(self):
        log = self.call("GET", "/log")
        return None if log is None else [e for e in log["value"] if e["host"] == "api"]


def plain(value):
    """ansible-inventory --list shows values read back from the cache as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def write_inventory(path, auth, **options):
    data = dict(plugin="secops.defender.machines", **auth)
    data.update(options)
    with open(path, "w") as handle:
        json.dump(data, handle)   # JSON is YAML
    return path


def inventory(path, *args):
    out = subprocess.run(["ansible-inventory", "-i", path] + list(args), capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def main(config_path, workdir):
    with open(config_path) as handle:
        config = json.load(handle)
    emulator = Emulator(config)
    auth = config["defender_auth"]
    name, first, second, linux = (config["defender_machine_name"], config["defender_machine_id"],
                                  config["defender_second_machine_id"], config["defender_linux_machine_id"])
    cache = os.path.join(workdir, "inventory-cache")

    # Everything, with the cache on: groups by tag, OS, risk and health; defender_* host variables.
    everything = write_inventory(os.path.join(workdir, "all.defender.yml"), auth, cache=True,
                                 cache_plugin="ansible.builtin.jsonfile", cache_connection=cache, cache_timeout=600,
                                 keyed_groups=[{"key": "defender_exposure", "prefix": "exposure"}])
    emulator.call("DELETE", "/log")
    graph = inventory(everything, "--graph")
    calls = emulator.api_calls()
    assert name in graph, graph
    if calls is not None:
        for group in ("@tag_finance", "@os_windows11", "@os_linux", "@health_active", "@risk_", "@exposure_"):
            assert group in graph, (group, graph)
        # one sign-in and one paged query, nothing per device
        assert [c["path"] for c in calls if c["path"].startswith("/api/")] == ["/api/machines"], calls
        emulator.call("DELETE", "/log")
        listed = json.loads(inventory(everything, "--list"))
        assert emulator.api_calls() == [], "the second run within cache_timeout must sign in and call nothing"
        host = plain(listed["_meta"]["hostvars"][name])
        assert host["defender_id"] == first and host["ansible_connection"] == "local", host
        assert "finance" in host["defender_tags"] and host["defender_os"], host

    # Filters: tags (findbytag) and platforms (OData), no cache.
    finance = write_inventory(os.path.join(workdir, "finance.defender.yml"), auth, tags=["finance"],
                              hostnames=["id"], default_groups=False)
    hosts = set(json.loads(inventory(finance, "--list"))["_meta"]["hostvars"])
    assert {first, second} <= hosts and linux not in hosts, hosts
    if emulator.info:
        only_linux = write_inventory(os.path.join(workdir, "linux.defender.yml"), auth, os_platforms=["Linux"],
                                     hostnames=["id"], last_seen_within="30d")
        assert set(json.loads(inventory(only_linux, "--list"))["_meta"]["hostvars"]) == {linux}

    # Two records of one re-onboarded name: one host per id, the name to the active record seen today.
    if emulator.info:
        alive, stale = "%040x" % 0xd0b1e0001, "%040x" % 0xd0b1e0002
        three_days_ago = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(time.time() - 3 * 86400))
        emulator.call("POST", "/seed", {"machines": [
            {"id": stale, "computerDnsName": "reimaged-01.corp.example.com", "online": False,
             "healthStatus": "Inactive", "lastSeen": three_days_ago, "machineTags": ["reimaged"]},
            {"id": alive, "computerDnsName": "reimaged-01.corp.example.com", "machineTags": ["reimaged"]}]})
        reimaged = write_inventory(os.path.join(workdir, "reimaged.defender.yml"), auth, tags=["reimaged"])
        out = subprocess.run(["ansible-inventory", "-i", reimaged, "--list"], capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        listed = json.loads(out.stdout)
        hosts = dict((k, plain(v)) for k, v in listed["_meta"]["hostvars"].items())
        assert sorted(hosts) == sorted(["reimaged-01.corp.example.com", stale]), hosts
        assert hosts["reimaged-01.corp.example.com"]["defender_id"] == alive, hosts
        assert hosts["reimaged-01.corp.example.com"]["defender_duplicates"] == [stale], hosts
        assert hosts[stale]["defender_id"] == stale and hosts[stale]["defender_duplicates"] == [alive], hosts
        health = dict((g, plain(listed[g]["hosts"])) for g in ("health_active", "health_inactive"))
        assert health == {"health_active": ["reimaged-01.corp.example.com"], "health_inactive": [stale]}, health
        assert "2 devices are named reimaged-01.corp.example.com" in " ".join(out.stderr.split()), out.stderr

    # The lookup, with the connection in environment variables as AWX would inject it.
    play = os.path.join(workdir, "lookup.yml")
    with open(play, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"ansible.builtin.set_fact": {"ids": "{{ query('secops.defender.machine_ids', tags=['finance']) }}",
                                          "raw": "{{ query('secops.defender.machine_ids', \"osPlatform eq 'Linux'\") }}"}},
            {"ansible.builtin.copy": {"dest": os.path.join(workdir, "lookup.json"), "mode": "0600",
                                      "content": "{{ {'ids': ids, 'raw': raw} | to_json }}"}}]}], handle)
    env = dict(os.environ, DEFENDER_TENANT_ID=auth["tenant_id"], DEFENDER_CLIENT_ID=auth["client_id"],
               DEFENDER_CLIENT_SECRET=auth["client_secret"])
    for key, variable in (("api_url", "DEFENDER_API_URL"), ("authority_url", "DEFENDER_AUTHORITY_URL"),
                          ("ca_path", "DEFENDER_CA_PATH"), ("token_cache_dir", "DEFENDER_TOKEN_CACHE_DIR")):
        if auth.get(key):
            env[variable] = auth[key]
    out = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", play,
                          "-e", "ansible_python_interpreter=%s" % sys.executable], env=env,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    with open(os.path.join(workdir, "lookup.json")) as handle:
        found = json.load(handle)
    assert {first, second} <= set(found["ids"]) and linux not in found["ids"], found
    assert found["raw"] == [linux], found
    print("inventory plugin and lookup check out")


if __name__ == "__main__":
    main(*sys.argv[1:])
