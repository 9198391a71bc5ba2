"""Indicators as code benchmark: figures, never assertions. `make bench-indicators` (or
.venv/bin/python benchmarks/indicators.py).

One defender_indicator task per step, through ansible-playbook, against an emulator with the documented rate limits
(import 30 calls a minute, BatchDelete 30 a minute and 1500 an hour, the rest 100 a minute):
  1) create N indicators (default 3000) titled "bench IaC ...";
  2) the same task again (nothing to do);
  3) purge to 0 in check mode with --diff (indicators: [], purge_scope title_prefix), which lists every deletion;
  4) purge to 0 for real.
An indicator of another app with the same title prefix, and one of this app outside the prefix, are seeded first:
the figures say whether each survived. For each step: wall time, API calls by route, 429s, and the task's summary.

    python benchmarks/indicators.py [--count 3000]
"""

import argparse
import collections
import json
import os
import sys
import tempfile

from mde_emulator import Emulator
from mde_emulator.seeding import load_seed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import Bench, collection_path, endpoint  # noqa: E402  (a sibling script, not a package)

PREFIX = "bench IaC "
FOREIGN = {"indicatorValue": "foreign.bench.example.com", "indicatorType": "DomainName", "action": "Block",
           "title": PREFIX + "foreign", "description": "another app's"}


def seed():
    data = load_seed()
    data.pop("events", None)
    data["indicators"] = [FOREIGN]
    return data


def step(bench, name, task, count):
    bench.client.control("DELETE", "/log")
    wall = bench.play(name, [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
    api = [e for e in bench.client.control("GET", "/log")["value"]
           if e["host"] == "api" and e["path"].startswith("/api/")]
    routes = collections.Counter(endpoint(e) for e in api)
    throttled = len([e for e in api if e["status"] == 429])
    try:
        with open(os.path.join(bench.workdir, name + "-tree", "localhost")) as handle:
            result = json.load(handle)
    except (IOError, ValueError):
        result = {}
    print(name)
    print("  wall %.1f s; API calls %d; 429s %d; changed %s; summary %s"
          % (wall, len(api), throttled, result.get("changed"), json.dumps(result.get("summary"), sort_keys=True)))
    listed = [r for r in result.get("results") or [] if r.get("purged")]
    if listed:
        print("  rows listing a purge deletion: %d (%s)" % (len(listed), listed[0].get("msg") or "done"))
    for route, calls in sorted(routes.items()):
        print("    %-44s %5d" % (route, calls))
    left = bench.client.control("GET", "/state")["indicators"]
    print("  indicators in the tenant: %d (of this run's %d: %d; another app's with the prefix: %d; ours outside "
          "it: %d)" % (len(left), count, len([e for e in left if e["title"].startswith(PREFIX + "n")]),
                       len([e for e in left if e["indicatorValue"] == FOREIGN["indicatorValue"]]),
                       len([e for e in left if e["title"] == "bench other"])))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="secops-bench-indicators-")
    print("Indicators benchmark: %d indicators, the documented rate limits" % args.count)
    with Emulator(seed(), state_dir=workdir) as emu:
        bench = Bench(emu, 1.0, workdir, collection_path())
        bench.auth.pop("rate_limits")   # the budget's own documented limits, as in production
        auth = dict(bench.auth, token_cache_dir=os.path.join(workdir, "state"))
        wanted = [{"value": "%040x" % (0xbe0c4000000 + i), "type": "FileSha1", "title": PREFIX + "n%05d" % i}
                  for i in range(args.count)]
        common = dict(auth, action="Block", description="bench")
        bench.client.control("DELETE", "/log")
        bench.play("setup", [{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"secops.defender.defender_indicator": dict(common, value="other.bench.example.com",
                                                        title="bench other")}]}])
        step(bench, "1) create %d" % args.count, {"secops.defender.defender_indicator": dict(
            common, indicators=wanted)}, args.count)
        step(bench, "2) the same again (no-op)", {"secops.defender.defender_indicator": dict(
            common, indicators=wanted)}, args.count)
        purge = dict(auth, indicators=[], purge=True, purge_scope={"title_prefix": PREFIX, "created_by_this_app": True})
        step(bench, "3) purge to 0, check mode and --diff",
             {"secops.defender.defender_indicator": purge, "check_mode": True, "diff": True}, args.count)
        step(bench, "4) purge to 0", {"secops.defender.defender_indicator": purge}, args.count)


if __name__ == "__main__":
    main()
