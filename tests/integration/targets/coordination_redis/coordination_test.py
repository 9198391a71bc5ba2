"""Four controllers share one tenant through a real redis-server; then the store goes away.

What must hold:
- four concurrent ansible-playbook runs, each with its own HOME, TMPDIR and token_cache_dir, quarantine one SHA-1
  on the same 50 devices: the emulator holds exactly 50 actions (one per device), its log shows 50 POSTs, the runs'
  rows report 50 changes in all, and the emulator answered no 429 although its limits are the ones the budget
  holds the four runs to together;
- with redis stopped, a run fails before any POST, with a message that names the store and not its password.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests

PASSWORD = "coordination-test-pw-7f3a"
SHA1 = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c024"
AFTER_SHA1 = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c025"
DEVICES = 50
CONTROLLERS = 4
# The budget the four runs share, and the emulator enforces: four runs each believing they had it alone would
# answer 429s here.
LIMITS = {"default": [[40, 6]]}
TMPDIRS = {}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(self, config):
        self.info = config["defender_emulator"]

    def call(self, method, path, body=None):
        response = requests.request(method, self.info["control_url"] + path, json=body, timeout=30,
                                    headers={"X-Emulator-Key": self.info["control_key"]}, verify=self.info["ca_path"])
        response.raise_for_status()
        return response.json()

    def api_log(self):
        """The API host's log, less the 401s: a request refused for its token did nothing and is sent again."""
        return [e for e in self.call("GET", "/log")["value"] if e["host"] == "api" and e["status"] != 401]

    def actions(self, sha1):
        return [a for a in self.call("GET", "/state")["actions"]
                if (a.get("relatedFileInfo") or {}).get("fileIdentifier") == sha1]


class Redis:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir)
        self.port = free_port()
        self.url = "redis://:%s@127.0.0.1:%d/0" % (PASSWORD, self.port)
        self.log = open(os.path.join(self.dir, "redis.log"), "w")
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
                                         "--dir", self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        for _attempt in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start; see %s" % self.log.name)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        self.log.close()


def machine_ids():
    return ["c0de%036x" % index for index in range(DEVICES)]


def controller_env(workdir, index):
    """A pod of its own: HOME, TMPDIR and the state folder are not shared."""
    home = os.path.join(workdir, "controller-%d" % index)
    for sub in ("home", "state"):
        os.makedirs(os.path.join(home, sub), exist_ok=True)
    # A short TMPDIR of its own: ansible-core 2.21 puts a unix socket there, whose path may not pass 107 bytes.
    tmp = TMPDIRS.setdefault(index, tempfile.mkdtemp(prefix="coord%d-" % index, dir="/tmp"))
    env = dict(os.environ, HOME=os.path.join(home, "home"), TMPDIR=tmp, ANSIBLE_LOCAL_TEMP=tmp,
               ANSIBLE_REMOTE_TEMP=tmp)
    return env, os.path.join(home, "state")


def play(config, workdir, index, url, sha1):
    env, state = controller_env(workdir, index)
    auth = dict(config["defender_auth"], token_cache_dir=state, coordination_url=url, rate_limits=LIMITS)
    results = os.path.join(workdir, "controller-%d.json" % index)
    extra = {"controller_auth": auth, "coordination_machines": machine_ids(), "coordination_sha1": sha1,
             "results_file": results}
    log = open(os.path.join(workdir, "controller-%d-%s.log" % (index, sha1[-2:])), "w")
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    process = subprocess.Popen(["ansible-playbook", "-i", inventory, "-e", json.dumps(extra), "playbook.yml"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log, results


def seed(emulator):
    emulator.call("POST", "/seed", {"machines": [
        {"id": machine_id, "computerDnsName": "coord-%02d.corp.example.com" % index, "osPlatform": "Windows11",
         "machineTags": ["coordination"]} for index, machine_id in enumerate(machine_ids())]})


def four_controllers(config, workdir, emulator, redis_store):
    emulator.call("DELETE", "/log")
    # Each controller's look-up for equal actions is held 8 s by the API, so the four look-ups overlap and find
    # nothing: only the locks in the store then stand between them and 200 POSTs.
    emulator.call("POST", "/faults", {"kind": "hang", "method": "GET", "path": "^/api/machineactions$",
                                      "count": CONTROLLERS, "delay": 8})
    runs = [play(config, workdir, index, redis_store.url, SHA1) for index in range(CONTROLLERS)]
    for process, log, _results in runs:
        process.wait(900)
        log.close()
    for index, (process, log, _results) in enumerate(runs):
        if process.returncode != 0:
            with open(log.name) as handle:
                raise SystemExit("controller %d failed:\n%s" % (index, handle.read()))
    rows, summaries = [], []
    for _process, log, results in runs:
        with open(results) as handle:
            result = json.load(handle)
        rows.extend(result["results"])
        summaries.append(result["summary"])
        with open(log.name) as handle:
            assert PASSWORD not in handle.read(), "the store's password reached the output"
    log_entries = emulator.api_log()
    posts = [e for e in log_entries if e["method"] == "POST" and e["path"].endswith("/StopAndQuarantineFile")]
    refused = [e for e in log_entries if e.get("status") == 429]
    actions = emulator.actions(SHA1)
    per_device = {}
    for action in actions:
        per_device.setdefault(action["machineId"], []).append(action["id"])
    changed = [r for r in rows if r.get("changed")]
    print("controllers: %d, devices: %d, POSTs: %d, actions: %d, changed rows: %d, API calls: %d, 429s: %d"
          % (CONTROLLERS, DEVICES, len(posts), len(actions), len(changed), len(log_entries), len(refused)))
    for index, summary in enumerate(summaries):
        print("controller %d: %s" % (index, summary))
    journaled = [r for r in rows if "submitted meanwhile by another task" in (r.get("msg") or "")]
    print("rows adopted through the store's journal: %d" % len(journaled))
    assert sorted(per_device) == machine_ids(), sorted(per_device)
    assert all(len(ids) == 1 for ids in per_device.values()), "a device got two actions: %s" % per_device
    assert len(posts) == DEVICES, len(posts)
    assert len(changed) == DEVICES, len(changed)
    assert len(rows) == CONTROLLERS * DEVICES and all(r.get("action_id") for r in rows), rows
    assert refused == [], refused


def store_gone(config, workdir, emulator, redis_store):
    redis_store.stop()
    emulator.call("DELETE", "/log")
    process, log, _results = play(config, workdir, 0, redis_store.url, AFTER_SHA1)
    process.wait(600)
    log.close()
    with open(log.name) as handle:
        output = handle.read()
    assert process.returncode != 0, output
    assert "redis://127.0.0.1:%d" % redis_store.port in output and "CoordinationStore" in output, output
    assert PASSWORD not in output
    posts = [e for e in emulator.api_log() if e["method"] == "POST"]
    assert posts == [] and emulator.actions(AFTER_SHA1) == [], posts
    print("store stopped: the run failed before any POST, naming redis://127.0.0.1:%d" % redis_store.port)


def main(config_path, workdir):
    with open(config_path) as handle:
        config = json.load(handle)
    emulator = Emulator(config)
    before = emulator.call("GET", "/state")["settings"]["rate_limits"]
    redis_store = Redis(workdir)
    try:
        seed(emulator)
        emulator.call("POST", "/settings", {"rate_limits": LIMITS})
        four_controllers(config, workdir, emulator, redis_store)
        store_gone(config, workdir, emulator, redis_store)
    finally:
        redis_store.stop()
        emulator.call("POST", "/settings", {"rate_limits": before})
        shutil.rmtree(os.path.join(workdir, "redis"), ignore_errors=True)
        for folder in TMPDIRS.values():
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
