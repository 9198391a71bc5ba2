"""Fleet benchmark: figures, never assertions. `make bench-fleet` (or .venv/bin/python benchmarks/fleet.py).

An emulator with 1000 Windows devices enforces the documented rate limits with every window scaled by SCALE (and
its clock runs 1/SCALE times as fast, so actions take as long relative to the windows as they would for real).
The client's rate budget is given the same scaled limits. Side by side:
  (a) quarantine one SHA-1 on all 1000 devices in one task (machines: [...]);
  (b) the same with an inventory of 1000 hosts, forks=25, one task per host;
  (c) the 0.1.0 way, a loop of single-device tasks, on a subset, projected to 1000;
  (d) the collect_forensics role on 100 devices;
  (e) (a) on 200 and on 1000 devices at the real limits (windows and clock unscaled: about 2 and 10 minutes): at
      the scaled windows Ansible's own start and end, a few seconds, weigh 20 times more against the bound;
  (f) (b) on 1000 hosts at the real limits (about ten minutes: 1000 POSTs at 100 a minute).
Each API counts in its own rate class, as each Learn page states ("Rate limitations for this API"), in the emulator
and in the client's budget alike. For each: wall time, the bound the limits allow (per class, from the calls each
class took: the slowest class decides), wall / bound, API calls per device by class and by endpoint, 429s, failed
devices and duplicate actions.

    python benchmarks/fleet.py [--scale 0.05] [--only a,b,c,d,e,f] [--subset 50] [--real-devices 200,1000]
                              [--real-hosts 1000]
"""

import argparse
import collections
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # this checkout's emulator, whatever the venv installed

from mde_emulator import Emulator  # noqa: E402
from mde_emulator.seeding import load_seed  # noqa: E402
from mde_emulator.testclient import RESPONDER, Client  # noqa: E402

SESSION_CAP = 25
TRIAGE_ZIP = "C:\\Windows\\Temp\\secops-triage.zip"


def collection_budget():
    """The collection's _budget (its class table and the documented limits), from the layout the plays use."""
    sys.path.insert(0, collection_path())
    from ansible_collections.secops.defender.plugins.module_utils import _budget
    return _budget


def scaled_limits(scale):
    return dict((k, [[calls, seconds * scale] for calls, seconds in v]) for k, v in budget().DEFAULT_LIMITS.items())


def posts_bound(count, windows):
    """The least time in which `count` calls fit every window: the last one waits for the earliest slot."""
    bound = 0.0
    for calls, seconds in windows:
        bound = max(bound, (math.ceil(count / float(calls)) - 1) * seconds)
    return bound


BUDGET = None  # the collection's _budget, loaded by budget() on first use


def budget():
    """The collection's _budget, laid out and loaded once: for main() and for the scripts that import this one
    (tests/utils/soak.py, benchmarks/controllers.py)."""
    global BUDGET
    if BUDGET is None:
        BUDGET = collection_budget()
    return BUDGET


_LAYOUT = []


def collection_path():
    if not _LAYOUT:
        out = subprocess.check_output(["bash", os.path.join(ROOT, "tests", "utils", "layout.sh")], text=True)
        _LAYOUT.append(os.path.dirname(os.path.dirname(os.path.dirname(out.strip()))))
    return _LAYOUT[0]


def fleet_seed(count, scale):
    seed = load_seed()
    seed.pop("events", None)  # the default seed's hunting events name its own devices, which this seed replaces
    seed["machines"] = [{"id": "%040x" % (0xf1ee7000000 + i), "computerDnsName": "ws-%04d.fleet.example.com" % i,
                         "osPlatform": "Windows11"} for i in range(count)]
    seed["scripts"] = dict(seed.get("scripts") or {}, **{"collect_triage.ps1": {
        "output": "triage collected", "creates": {TRIAGE_ZIP: {"size": 4096}}}})
    seed["settings"] = {"clock_speed": 1.0 / scale, "rate_limits": scaled_limits(scale)}
    return seed


class Bench:
    def __init__(self, emu, scale, workdir, collections_path):
        self.emu = emu
        self.client = Client(emu)
        self.scale = scale
        self.workdir = workdir
        self.collections = collections_path
        self.overhead = 0.0   # Ansible's own cost of a one-task play, measured in main()
        info = emu.info()
        self.auth = {"tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
                     "api_url": info["api_url"], "authority_url": info["authority_url"], "ca_path": info["ca_path"],
                     "download_hosts": [urlsplit(info["blob_url"]).hostname],
                     "rate_limits": scaled_limits(scale)}
        self.ids = sorted(m.id for m in emu.tenant.machines.values() if m.name.endswith(".fleet.example.com"))

    def fresh(self, name, scale=None):
        """A clean log, a reset limiter, and a budget and token cache of the scenario's own; `scale` (the
        benchmark's unless given) sets the windows of both sides and the emulator's clock."""
        scale = self.scale if scale is None else scale
        self.client.control("POST", "/settings", {"rate_limits": scaled_limits(scale), "clock_speed": 1.0 / scale})
        self.client.control("DELETE", "/log")
        return dict(self.auth, token_cache_dir=os.path.join(self.workdir, "state-" + name),
                    rate_limits=scaled_limits(scale))

    def play(self, name, plays, hosts=None, forks=10):
        """Run the plays; the tree callback writes each host's last result to <workdir>/<name>-tree/<host>, so
        reading results costs the play no extra task."""
        inventory = os.path.join(self.workdir, name + ".ini")
        with open(inventory, "w") as handle:
            handle.write("[fleet]\n")
            for host in hosts or ["localhost"]:
                handle.write("%s ansible_connection=local ansible_python_interpreter=%s\n" % (host, sys.executable))
        path = os.path.join(self.workdir, name + ".yml")
        with open(path, "w") as handle:
            json.dump(plays, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_FORKS=str(forks),
                   ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                   ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
                   ANSIBLE_CALLBACK_TREE_DIR=os.path.join(self.workdir, name + "-tree"))
        started = time.monotonic()
        result = subprocess.run(["ansible-playbook", "-i", inventory, path], env=env, capture_output=True,
                                text=True, check=False)
        wall = time.monotonic() - started
        if result.returncode != 0:
            print("  (the play exited %d; its last lines follow)" % result.returncode)
            print("\n".join("  | " + line for line in (result.stdout + result.stderr).splitlines()[-15:]))
        return wall

    def figures(self, label, devices, wall, bound=None, failed=None, undone=None, projected_from=None,
                windows=None, floor=0.0, tail=0.0, sha1=None):
        """Print a scenario's figures. Without `bound`, the bound is the slowest class's: the least time in which
        the calls each class took (429s excluded) fit its windows (`windows`), at least `floor`; plus `tail`, the
        time the last action needs to run once it is submitted (no client can be done before it is). With `sha1`,
        duplicates count only the actions on that file (the state also holds the scenarios before)."""
        log = self.client.control("GET", "/log")["value"]
        api = [e for e in log if e["host"] == "api" and e["path"].startswith("/api/")]
        by_endpoint = collections.Counter(endpoint(e) for e in api)
        by_class = collections.Counter(budget().rate_class(e["path"], e["method"]) for e in api if e["status"] != 429)
        scale_up = devices / float(projected_from) if projected_from else 1.0
        class_bounds = dict((k, posts_bound(int(math.ceil(c * scale_up)), windows[k]))
                            for k, c in by_class.items()) if windows else {}
        slowest = max(class_bounds, key=class_bounds.get) if class_bounds else None
        if bound is None:
            bound = max([floor] + list(class_bounds.values())) + tail
        state = self.client.control("GET", "/state")
        per_target = collections.Counter((a["machineId"], a["type"], (a.get("relatedFileInfo") or {}).get(
            "fileIdentifier") or a.get("requestorComment")) for a in state["actions"]
            if sha1 is None or (a.get("relatedFileInfo") or {}).get("fileIdentifier") == sha1)
        duplicates = sum(n - 1 for n in per_target.values() if n > 1)
        throttled = len([e for e in api if e["status"] == 429])
        print("(%s)" % label)
        if projected_from:
            projected = wall * devices / projected_from
            print("  measured on %d devices: %.1f s; projected to %d: %.1f s"
                  % (projected_from, wall, devices, projected))
            wall = wall * devices / projected_from
            devices_measured = projected_from
        else:
            devices_measured = devices
        print("  wall %.1f s, bound %.1f s (the slowest class %.1f s + the last action's run %.1f s), wall/bound %.2f"
              % (wall, bound, bound - tail, tail, wall / bound if bound else float("nan")))
        if self.overhead and bound and not projected_from:
            print("  wall less Ansible's own cost of a one-task play (%.1f s): %.1f s, %.2f of the bound"
                  % (self.overhead, wall - self.overhead, (wall - self.overhead) / bound))
        if api and not projected_from:
            span = api[-1]["time"] - api[0]["time"]
            posts = [e["time"] for e in api if e["method"] == "POST"]
            print("  first to last API call %.1f s (the rest is Ansible starting, signing in, and reporting); "
                  "first call to last POST %.1f s" % (span, (posts[-1] - api[0]["time"]) if posts else 0.0))
        print("  API calls %d = %.2f per device; 429s %d (%.2f per 100 calls); failed devices %s%s; duplicates %d"
              % (len(api), len(api) / float(devices_measured), throttled, 100.0 * throttled / max(1, len(api)),
                 "?" if failed is None else failed,
                 "" if undone is None else " (without a Succeeded action in the emulator: %d)" % undone, duplicates))
        print("  calls per device by rate class (429s excluded), each class's bound; the slowest decides:")
        for name, count in by_class.most_common():
            print("    %-28s %6d  (%.3f per device)  bound %6.1f s%s"
                  % (name, count, count / float(devices_measured), class_bounds.get(name, 0.0),
                     "  <- slowest" if name == slowest else ""))
        print("  by endpoint:")
        for name, count in by_endpoint.most_common():
            print("    %-48s %6d  (%.3f per device)" % (name, count, count / float(devices_measured)))
            if name == "GET /api/machineactions":
                lists = [e for e in api if endpoint(e) == name]
                kinds = collections.Counter(list_kind(e) for e in lists)
                print("      %s" % ", ".join("%s %d (%.3f)" % (k, c, c / float(devices_measured))
                                             for k, c in kinds.most_common()))
                if len(lists) > 2:
                    gaps = [b["time"] - a["time"] for a, b in zip(lists, lists[1:])]
                    named = [((e.get("query") or {}).get("$filter") or "").count("machineId eq") for e in lists]
                    print("      seconds between two: median %.2f (%.2f..%.2f); devices named in one: median %d, "
                          "max %d" % (statistics.median(gaps), min(gaps), max(gaps), statistics.median(named),
                                      max(named)))
        # A device POSTed to more than once: how each of its POSTs was answered (a refusal of a repeat, a 5xx, an
        # answer that came too late), so that no extra call goes unexplained.
        posts_by_device = collections.defaultdict(list)
        for entry in api:
            if entry["method"] == "POST" and entry["path"].startswith("/api/machines/"):
                posts_by_device[entry["path"].split("/")[3]].append(entry)
        repeated = dict((k, v) for k, v in posts_by_device.items() if len(v) > 1)
        if repeated:
            answers = collections.Counter(" then ".join(
                "%s%s" % (e["status"], " " + e["error"] if e.get("error") else "") for e in v)
                for v in repeated.values())
            print("  devices POSTed to more than once: %d; their POSTs answered (the commonest sequences):"
                  % len(repeated))
            for text, count in answers.most_common(6):
                print("    %4d x %s" % (count, text))
            if len(answers) > 6:
                print("    ... and %d devices in %d other sequences"
                      % (sum(c for dummy, c in answers.most_common()[6:]), len(answers) - 6))
        return {"wall": wall, "bound": bound, "calls": len(api), "throttled": throttled, "duplicates": duplicates}

    def action_run(self, scale):
        """Seconds an action takes from its submission to Succeeded, at this scale (the emulator's clock runs
        1/scale times as fast)."""
        return (self.emu.settings["pending_seconds"] + self.emu.settings["action_seconds"]) * scale

    def failed_devices(self, results_file):
        try:
            with open(results_file) as handle:
                return sum(1 for r in json.load(handle) if r.get("failed"))
        except (IOError, ValueError):
            return None

    def failed_in_tree(self, name):
        """Failed devices as the modules reported them: rows of a fleet result, or one result per host."""
        folder = os.path.join(self.workdir, name + "-tree")
        failed = 0
        try:
            for host in os.listdir(folder):
                with open(os.path.join(folder, host)) as handle:
                    result = json.load(handle)
                rows = result.get("results") or [result]
                failed += sum(1 for r in rows if r.get("failed"))
        except (IOError, ValueError):
            return None
        return failed

    def devices_without(self, sha1):
        """Devices with no Succeeded action for the file in the emulator's state: failures as Defender sees them."""
        state = self.client.control("GET", "/state")
        done = set(a["machineId"] for a in state["actions"] if a["status"] == "Succeeded"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == sha1)
        return len([m for m in self.ids if m not in done])


def endpoint(entry):
    path = re.sub(r"/[0-9a-f]{40}", "/{id}", entry["path"])
    path = re.sub(r"/[0-9a-f-]{36}", "/{id}", path)
    path = re.sub(r"\(index=\d+\)", "(index=N)", path)
    return "%s %s" % (entry["method"], path)


def list_kind(entry):
    """What a machineactions list query was for, told by its filter: a look-up of its own for equal actions (a
    status that counts), or a poll, or the round that one-device tasks share for both (no status in either)."""
    text = (entry.get("query") or {}).get("$filter") or ""
    if "status eq" in text:
        return "look-ups"
    return "polls or shared rounds"


def save_results(var, path):
    return {"ansible.builtin.copy": {"dest": path, "content": "{{ %s | to_json }}" % var, "mode": "0600"},
            "delegate_to": "localhost", "run_once": True}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.05,
                        help="window scale factor (default 0.05: a minute lasts 3 s)")
    parser.add_argument("--only", default="a,b,c,d,e,f")
    parser.add_argument("--real-devices", type=lambda text: [int(n) for n in text.split(",")], default=[200, 1000],
                        help="device counts for (e), at the real limits, comma-separated (default 200,1000)")
    parser.add_argument("--real-hosts", type=int, default=1000, help="hosts for (f), at the real limits")
    parser.add_argument("--subset", type=int, default=50, help="devices for (c), projected to 1000")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10, help="the module's concurrency option for (a)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    workdir = tempfile.mkdtemp(prefix="secops-bench-fleet-")
    print("Fleet benchmark: %d devices; documented limits with windows scaled by %g (a minute lasts %.1f s, an "
          "hour %.0f s); emulator clock %gx"
          % (args.devices, args.scale, 60 * args.scale, 3600 * args.scale, 1 / args.scale))
    budget()
    with Emulator(fleet_seed(args.devices, args.scale), state_dir=workdir) as emu:
        bench = Bench(emu, args.scale, workdir, collection_path())
        windows = scaled_limits(args.scale)
        n = len(bench.ids)
        # What Ansible itself costs a one-task play (start, one module run, the end), whatever the API: a few
        # seconds that the scaled windows (a minute lasts 3 s) magnify 20 times. Printed beside, never hidden.
        bench.overhead = sorted(bench.play("overhead", [{"hosts": "localhost", "gather_facts": False,
                                                         "tasks": [{"ansible.builtin.ping": {}}]}])
                                for _round in range(3))[1]
        print("Ansible's own cost of a one-task play (an ansible.builtin.ping, median of 3): %.1f s" % bench.overhead)
        if "a" in only:
            auth = bench.fresh("a")
            wall = bench.play("a", [{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"secops.defender.defender_quarantine_file": dict(
                    auth, machines=bench.ids, sha1="a" * 40, comment="bench a", fail_on_device_error=False,
                    concurrency=args.concurrency)}]}])
            bench.figures("a) one task, %d devices" % n, n, wall, None, bench.failed_in_tree("a"),
                          bench.devices_without("a" * 40), windows=windows, tail=bench.action_run(args.scale))
        if "b" in only:
            per_host(bench, "b", bench.ids, args.scale, "b) %d hosts, forks=25, one task per host" % n)
        if "c" in only:
            auth = bench.fresh("c")
            subset = bench.ids[:args.subset]
            wall = bench.play("c", [{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"secops.defender.defender_quarantine_file": dict(
                    auth, machine_id="{{ item }}", sha1="c" * 40, comment="bench c"),
                 "loop": subset, "ignore_errors": True}]}])
            bench.figures("c) the 0.1.0 way: a loop of single-device tasks", n, wall, None,
                          bench.failed_in_tree("c"), bench.devices_without("c" * 40) - (n - len(subset)),
                          projected_from=len(subset), windows=windows)
        if "d" in only:
            auth = bench.fresh("d")
            subset = bench.ids[:100]
            out = os.path.join(workdir, "d.json")
            wall = bench.play("d", [{"hosts": "localhost", "gather_facts": False,
                                     "module_defaults": {"group/secops.defender.defender": auth},
                                     "roles": [{"role": "secops.defender.collect_forensics",
                                                "collect_forensics_machines": subset,
                                                "collect_forensics_dest": os.path.join(workdir, "evidence"),
                                                "collect_forensics_fail_on_error": False,
                                                "collect_forensics_poll_interval": 1}],
                                     "post_tasks": [save_results("collect_forensics_run.results", out)]}])
            session = (emu.settings["pending_seconds"] + emu.settings["script_seconds"]
                       + emu.settings["command_seconds"]) * args.scale
            bound = math.ceil(len(subset) / float(SESSION_CAP)) * session
            print("  (bound for (d): the slowest class (live response: 10 starts a minute), at least the cap of %d "
                  "sessions of %.2f s each)" % (SESSION_CAP, session))
            bench.figures("d) collect_forensics on %d devices" % len(subset), len(subset), wall, None,
                          bench.failed_devices(out), windows=windows, floor=bound)
        if "e" in only:
            real = budget().DEFAULT_LIMITS
            for count in args.real_devices:
                # Each count quarantines a file of its own, so one run's actions are never another's "done".
                label, sha1 = "e%d" % count, ("%x" % count).rjust(40, "e")
                auth = bench.fresh(label, scale=1.0)
                subset = bench.ids[:count]
                wall = bench.play(label, [{"hosts": "localhost", "gather_facts": False, "tasks": [
                    {"secops.defender.defender_quarantine_file": dict(
                        auth, machines=subset, sha1=sha1, comment="bench " + label, fail_on_device_error=False,
                        concurrency=args.concurrency)}]}])
                bench.figures("e) one task, %d devices, at the real limits" % len(subset), len(subset), wall, None,
                              bench.failed_in_tree(label), bench.devices_without(sha1) - (n - len(subset)),
                              windows=real, tail=bench.action_run(1.0), sha1=sha1)
        if "f" in only:
            # (b) where the per-host form is meant to run: at the documented windows, a minute lasts a minute, and
            # Ansible's own cost per host (a process and a module run each, on 2 cores) no longer outweighs them.
            subset = bench.ids[:args.real_hosts]
            per_host(bench, "f", subset, 1.0, "f) %d hosts, forks=25, one task per host, at the real limits"
                     % len(subset), others=n - len(subset))


def per_host(bench, name, ids, scale, label, others=0):
    """The play AWX users write with the inventory plugin: one host per device, one quarantine task per host."""
    auth = bench.fresh(name, scale=scale)
    hosts = ["h%04d machine=%s" % (i, m) for i, m in enumerate(ids)]
    wall = bench.play(name, [{"hosts": "fleet", "gather_facts": False, "tasks": [
        {"secops.defender.defender_quarantine_file": dict(
            auth, machine_id="{{ machine }}", sha1=name * 40, comment="bench " + name),
         "ignore_errors": True}]}],
        hosts=hosts, forks=25)
    bench.figures(label, len(ids), wall, None, bench.failed_in_tree(name), bench.devices_without(name * 40) - others,
                  windows=scaled_limits(scale), tail=bench.action_run(scale))


if __name__ == "__main__":
    main()
