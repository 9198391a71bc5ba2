"""Controllers benchmark: figures, never assertions. `make bench-controllers`.

Four controllers (separate HOME, TMPDIR and state folder each, as AWX pods would be) run the same response on one
tenant at once: quarantine one SHA-1 on the same devices. The emulator enforces the documented limits with every
window scaled by SCALE; each controller's budget is given the same limits. Side by side:
  (e) without a coordination store: each controller believes it owns the tenant's whole budget;
  (f) with one Redis (coordination_url): one budget and one set of submit locks for all four.
For each: wall time against the bound of the combined work (the POSTs and look-ups one tenant needs, each rate class
at the limits its Learn page states, the slowest class deciding), API calls by endpoint and by class, 429s, failed
devices and duplicate actions.

At --scale 1 (the documented limits themselves) the bound of 300 devices is 2 minutes (300 quarantines at 100 a
minute), and the start-up of four ansible-playbook processes on a small machine no longer weighs as it does against
the 6 s of the scaled windows.

    python benchmarks/controllers.py [--scale 0.05] [--devices 300] [--controllers 4] [--only ef]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from mde_emulator import Emulator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import Bench, collection_path, fleet_seed, posts_bound, scaled_limits  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=workdir)
        self.port = free_port()
        self.url = "redis://:bench-pw@127.0.0.1:%d/0" % self.port
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--requirepass", "bench-pw", "--save", "", "--appendonly", "no",
                                         "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _attempt in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(20)


def controllers(bench, name, auth, count, machines, sha1):
    """Run `count` ansible-playbook processes at once, each a pod of its own; returns the wall time of all."""
    processes = []
    started = time.monotonic()
    for index in range(count):
        home = os.path.join(bench.workdir, "%s-%d" % (name, index))
        os.makedirs(os.path.join(home, "home"))
        tmp = tempfile.mkdtemp(prefix="c%d-" % index)   # short: ansible-core 2.21 puts a unix socket there
        play = os.path.join(home, "play.yml")
        with open(play, "w") as handle:
            json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"secops.defender.defender_quarantine_file": dict(
                    auth, token_cache_dir=os.path.join(home, "state"), machines=machines, sha1=sha1,
                    comment="bench %s" % name, fail_on_device_error=False, wait=False)}]}], handle)
        inventory = os.path.join(home, "inventory.ini")
        with open(inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=bench.collections, HOME=os.path.join(home, "home"),
                   TMPDIR=tmp, ANSIBLE_LOCAL_TEMP=tmp)
        log = open(os.path.join(home, "out.log"), "w")
        processes.append((subprocess.Popen(["ansible-playbook", "-i", inventory, play], env=env, stdout=log,
                                           stderr=subprocess.STDOUT), log, tmp))
    failed_runs = 0
    for process, log, tmp in processes:
        process.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
        failed_runs += process.returncode != 0
    wall = time.monotonic() - started
    if failed_runs:
        print("  (%d of %d controllers exited non-zero)" % (failed_runs, count))
    return wall


def api_span(bench):
    """Seconds from the scenario's first API call to its last (the log is the scenario's own)."""
    log = [e for e in bench.client.control("GET", "/log")["value"]
           if e["host"] == "api" and e["path"].startswith("/api/")]
    return log[-1]["time"] - log[0]["time"] if log else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--controllers", type=int, default=4)
    parser.add_argument("--only", default="ef", help="the scenarios to run: e, f or ef")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="secops-bench-controllers-")
    print("Controllers benchmark: %d controllers, one SHA-1 on the same %d devices; documented limits with windows "
          "scaled by %g" % (args.controllers, args.devices, args.scale))
    redis_server = RedisServer(workdir)
    try:
        with Emulator(fleet_seed(args.devices, args.scale), state_dir=workdir) as emu:
            bench = Bench(emu, args.scale, workdir, collection_path())
            windows = scaled_limits(args.scale)
            # The combined work: one POST per device (its own class) and one look-up per controller (list machine
            # actions, a class of its own), each class at the limits its Learn page states; the slowest decides.
            bound = max(posts_bound(args.devices, windows["stopandquarantinefile"]),
                        posts_bound(args.controllers, windows["listmachineactions"]))
            for name, extra in (("e", {}), ("f", {"coordination_url": redis_server.url})):
                if name not in args.only:
                    continue
                auth = dict(bench.fresh(name), **extra)
                sha1 = (name * 40)[:40]
                wall = controllers(bench, name, auth, args.controllers, bench.ids, sha1)
                label = ("e) %d controllers, no coordination store" % args.controllers if name == "e" else
                         "f) %d controllers, one Redis (coordination_url)" % args.controllers)
                bench.figures(label, args.devices, wall, bound, None, bench.devices_without(sha1), windows=windows,
                              sha1=sha1)
                span = api_span(bench)
                print("  first to last API call %.1f s = %.2f x the bound (the wall above adds %d ansible-playbook "
                      "start-ups)" % (span, span / bound if bound else float("nan"), args.controllers))
    finally:
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
