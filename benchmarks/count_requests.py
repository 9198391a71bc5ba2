"""Benchmarks that count, not time: sign-ins per play and API requests per module run, against the emulator.

    make bench        (or: .venv/bin/python benchmarks/count_requests.py)

Prints one line per figure. It starts its own emulator and uses the collection laid out by tests/utils/layout.sh.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from mde_emulator import Emulator
from mde_emulator.seeding import load_seed
from mde_emulator.testclient import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"


def collection_path():
    out = subprocess.check_output(["bash", os.path.join(ROOT, "tests", "utils", "layout.sh")], text=True)
    return os.path.dirname(os.path.dirname(os.path.dirname(out.strip())))


def run_play(tasks, auth, workdir, hosts=1, forks=5):
    inventory = os.path.join(workdir, "inventory")
    with open(inventory, "w") as handle:
        handle.write("[targets]\n" + "".join("h%d ansible_connection=local ansible_python_interpreter=%s\n"
                                             % (i, sys.executable) for i in range(hosts)))
    play = [{"hosts": "targets", "gather_facts": False,
             "module_defaults": {"group/secops.defender.defender": auth}, "tasks": tasks}]
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as handle:
        json.dump(play, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_FORKS=str(forks),
               ANSIBLE_HOST_KEY_CHECKING="false")
    started = time.monotonic()
    result = subprocess.run(["ansible-playbook", "-i", inventory, path], env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-2000:])
        raise SystemExit("play failed")
    return time.monotonic() - started


def count(client, predicate):
    return len([e for e in client.control("GET", "/log")["value"] if predicate(e)])


def is_sign_in(entry):
    return entry["path"].endswith("/oauth2/v2.0/token")


def is_api(entry):
    return entry["path"].startswith("/api/")


def main():
    global COLLECTIONS
    COLLECTIONS = collection_path()
    seed = load_seed()
    seed["settings"] = {"clock_speed": 50}
    workdir = tempfile.mkdtemp(prefix="secops-bench-")
    with Emulator(seed, state_dir=workdir) as emu:
        client = Client(emu)
        info = emu.info()
        auth = {"tenant_id": info["tenant_id"], "client_id": "11111111-1111-4111-8111-111111111111",
                "client_secret": "emulator-secret-responder", "api_url": info["api_url"],
                "authority_url": info["authority_url"], "ca_path": info["ca_path"],
                "download_hosts": [urlsplit(info["blob_url"]).hostname],
                "token_cache_dir": os.path.join(workdir, "cache")}
        info_task = {"secops.defender.defender_machine_info": {"machine_id": WS1}}

        for cache in (True, False):
            client.control("DELETE", "/log")
            seconds = run_play([info_task] * 20, dict(auth, token_cache=cache), workdir)
            print("sign-in requests for a 20-task play, token_cache=%s: %d  (%.1f s)"
                  % (cache, count(client, is_sign_in), seconds))
        client.control("DELETE", "/log")
        seconds = run_play([info_task], dict(auth, token_cache_dir=os.path.join(workdir, "cache2")), workdir,
                           hosts=20, forks=10)
        print("sign-in requests for 20 hosts x 1 task at forks=10, empty cache: %d  (%.1f s)"
              % (count(client, is_sign_in), seconds))

        scenarios = [
            ("defender_quarantine_file (new, wait)", {"secops.defender.defender_quarantine_file": {
                "machine_id": WS1, "sha1": "9" * 40, "poll_interval": 1}}),
            ("defender_quarantine_file (equal action exists)", {"secops.defender.defender_quarantine_file": {
                "machine_id": WS1, "sha1": "9" * 40, "poll_interval": 1}}),
            ("defender_live_response (RunScript + GetFile, wait)", {"secops.defender.defender_live_response": {
                "machine_id": WS1, "poll_interval": 1, "dest": os.path.join(workdir, "evidence"),
                "commands": [{"type": "RunScript", "script_name": "collect_triage.ps1"},
                             {"type": "GetFile", "path": "C:\\Windows\\Temp\\triage.txt"}]}}),
            ("defender_library_file (unchanged)", {"secops.defender.defender_library_file": {
                "src": os.path.join(ROOT, "tests", "integration", "targets", "defender_live_response", "files",
                                    "collect_triage.ps1"), "name": "bench.ps1"}}),
            ("defender_cancel_action (pending action)", None),
            ("defender_machine_info (by name)", {"secops.defender.defender_machine_info": {
                "machine_name": "ws-fin-001"}}),
            ("defender_machine_action_info (by machine, open)", {"secops.defender.defender_machine_action_info": {
                "machine_id": WS1, "status": ["Pending", "InProgress"]}}),
        ]
        run_play([scenarios[3][1]], auth, workdir)  # upload once, so the measured run is the unchanged case
        for name, task in scenarios:
            if task is None:
                pending = client.post("/api/machines/4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d/StopAndQuarantineFile",
                                      {"Comment": "bench", "Sha1": "8" * 40}).json()
                task = {"secops.defender.defender_cancel_action": {"action_id": pending["id"]}}
            client.control("DELETE", "/log")
            run_play([task], auth, workdir)
            log = client.control("GET", "/log")["value"]
            api = [e for e in log if is_api(e)]
            blob = [e for e in log if e["host"] == "blob"]
            polls = [e for e in api if e["method"] == "GET" and e["path"].startswith("/api/machineactions/")
                     and e["path"].count("/") == 3]
            print("requests for %s: %d API (%d POST, %d GET of the action), %d blob, %d sign-in"
                  % (name, len(api), len([e for e in api if e["method"] == "POST"]), len(polls), len(blob),
                     len([e for e in log if is_sign_in(e)])))


COLLECTIONS = None

if __name__ == "__main__":
    main()
