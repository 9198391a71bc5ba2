"""Fault soak: a fleet play while the emulator injects a fixed, seeded mix of faults, then the emulator's state is
checked. `make soak` runs it at full size; `make test` runs a short one (--devices 150).

The play, run by the real ansible-playbook against the installed collection:
  1. defender_quarantine_file on every device, in one task (one action per device);
  2. defender_live_response (a script and a GetFile) on --sessions devices, with evidence written to disk.
Meanwhile about --rate of all API, sign-in and download requests fail: 429, 500, 502, 503, dropped before or after
processing, a garbled body, a slow answer, a request that hangs past the client's timeout (its answer lost, the
request carried out), a corrupt download. Every access token is expired every 15 s.

It prints its figures, and exits non-zero unless: 0 duplicate actions, 0 lost actions (every device the play reports
ok has its action, succeeded, in the emulator), 0 unhandled exceptions, every failure message with a status or an
error code, at most --max-failed-percent of devices failed, and every evidence file whole.

    python tests/utils/soak.py [--devices 1000] [--sessions 20] [--rate 0.2] [--seed 7]
"""

import argparse
import collections
import hashlib
import json
import os
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from mde_emulator import Emulator  # noqa: E402
from mde_emulator.state import deterministic_bytes  # noqa: E402
from fleet import TRIAGE_ZIP, Bench, collection_path, endpoint, fleet_seed, save_results  # noqa: E402

SHA1 = "5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f"
# "hang" outlasts the modules' timeout (5 s): the answer is lost while the request is carried out.
MIX = {"429": 3, "500": 3, "502": 1, "503": 2, "drop": 2, "drop_after": 2, "malformed": 2, "slow": 1, "corrupt": 1,
       "hang": 2}
UNHANDLED = ("Traceback", "Unexpected error", "unexpected ", "MODULE FAILURE")


def expire_tokens(bench, stop, every=15.0):
    """Expire every access token now and then, so that sign-in happens mid-run, under faults."""
    expired = 0
    while not stop.wait(every):
        bench.client.control("POST", "/tokens/expire")
        expired += 1
    return expired


def load(path):
    with open(path) as handle:
        return json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=0.05, help="rate-limit windows scaled as in bench-fleet")
    parser.add_argument("--max-failed-percent", type=float, default=2.0)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="secops-soak-")
    print("Fault soak: %d devices, %d live response sessions; %.0f%% of requests faulty (seed %d): %s"
          % (args.devices, args.sessions, 100 * args.rate, args.seed,
             ", ".join("%s x%d" % item for item in sorted(MIX.items()))))
    with Emulator(fleet_seed(args.devices, args.scale), state_dir=workdir) as emu:
        bench = Bench(emu, args.scale, workdir, collection_path())
        auth = dict(bench.fresh("soak"), timeout=5)
        evidence = os.path.join(workdir, "evidence")
        out_q, out_lr = os.path.join(workdir, "quarantine.json"), os.path.join(workdir, "live_response.json")
        bench.client.control("POST", "/faults", {"kind": "mix", "host": "any", "rate": args.rate, "seed": args.seed,
                                                 "faults": MIX, "slow_seconds": 2, "hang_seconds": 7})
        stop = threading.Event()
        expirer = threading.Thread(target=expire_tokens, args=(bench, stop), daemon=True)
        expirer.start()
        started = time.monotonic()
        tasks = [
            {"secops.defender.defender_quarantine_file": {
                "machines": bench.ids, "sha1": SHA1, "comment": "soak", "fail_on_device_error": False},
             "register": "quarantine"},
            save_results("quarantine.results", out_q),
            {"secops.defender.defender_live_response": {
                "machines": bench.ids[:args.sessions], "comment": "soak triage", "dest": evidence,
                "fail_on_device_error": False, "poll_interval": 2, "commands": [
                    {"type": "RunScript", "script_name": "collect_triage.ps1"},
                    {"type": "GetFile", "path": TRIAGE_ZIP}]},
             "register": "triage"},
            save_results("triage.results", out_lr)]
        wall = bench.play("soak", [{"hosts": "localhost", "gather_facts": False,
                                    "module_defaults": {"group/secops.defender.defender": auth}, "tasks": tasks}])
        stop.set()
        elapsed = time.monotonic() - started
        state = bench.client.control("GET", "/state")
        log = bench.client.control("GET", "/log")["value"]
        mix = [f for f in state["faults"] if f["kind"] == "mix"]
        bench.client.control("DELETE", "/faults")
        problems = check(args, bench, state, log, out_q, out_lr, mix, wall, elapsed, workdir)
    if problems:
        print("SOAK FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("soak passed")
    return 0


def check(args, bench, state, log, out_q, out_lr, mix, wall, elapsed, workdir):
    problems = []
    try:
        quarantine, triage = load(out_q), load(out_lr)
    except (IOError, ValueError) as exc:
        return ["the play did not write its results (%s); see its output above" % exc]
    rows = quarantine + triage
    actions = state["actions"]
    by_id = dict((a["id"], a) for a in actions)
    per_target = collections.Counter((a["machineId"], a["type"], (a.get("relatedFileInfo") or {}).get(
        "fileIdentifier") or a.get("requestorComment")) for a in actions)
    duplicates = sum(n - 1 for n in per_target.values() if n > 1)
    lost = [r for r in rows if not r["failed"] and (by_id.get(r.get("action_id")) or {}).get("status") != "Succeeded"]
    failed = [r for r in rows if r["failed"]]
    unclear = [r for r in failed if not ((r.get("error") or {}).get("status") or (r.get("error") or {}).get("code"))]
    unhandled = [r for r in rows if any(word in (r.get("msg") or "") for word in UNHANDLED)]
    files = [(r["machine_id"], f) for r in triage if not r["failed"] for f in r.get("files") or []]
    bad_files = []
    for machine_id, item in files:
        expected = deterministic_bytes("%s:%s" % (machine_id, TRIAGE_ZIP.lower()), 4096)
        with open(item["path"], "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != item["sha256"] or data != expected:
            bad_files.append(item["path"])
    leftovers = [os.path.join(d, n) for d, dummy, names in os.walk(os.path.join(workdir, "evidence")) for n in names
                 if n.endswith(".part")]
    injected = mix[0]["injected"] if mix else {}
    seen = mix[0]["seen"] if mix else 0
    api = [e for e in log if e["host"] == "api"]
    print("  wall %.1f s (play %.1f s); requests %d (API and sign-in %d, downloads %d); faults injected %d of %d "
          "matching requests (%.1f%%): %s"
          % (elapsed, wall, len(log), len(api), len(log) - len(api), sum(injected.values()), seen,
             100.0 * sum(injected.values()) / max(1, seen), ", ".join("%s %d" % i for i in sorted(injected.items()))))
    print("  actions %d for %d devices (%d quarantines, %d sessions); duplicates %d; lost %d; unhandled %d"
          % (len(actions), len(rows), len(quarantine), len(triage), duplicates, len(lost), len(unhandled)))
    print("  failed devices %d (%.2f%%), each with a status or code: %s; evidence files %d, corrupt %d, partial %d"
          % (len(failed), 100.0 * len(failed) / max(1, len(rows)), "yes" if not unclear else "NO (%d)" % len(unclear),
             len(files), len(bad_files), len(leftovers)))
    for row in failed[:10]:
        print("    failed %s: %s" % (row["machine"], row["msg"][:300]))
    calls = collections.Counter(endpoint(e) for e in api if e["path"].startswith("/api/"))
    for name, count in calls.most_common(8):
        print("    %-48s %6d" % (name, count))
    if len(actions) < len(rows) - len(failed):
        problems.append("fewer actions than devices reported ok")
    if duplicates:
        problems.append("%d duplicate actions" % duplicates)
    if lost:
        problems.append("%d devices reported ok without a succeeded action: %s" % (
            len(lost), ", ".join(r["machine"] for r in lost[:5])))
    if unhandled:
        problems.append("%d unhandled exceptions: %s" % (len(unhandled), unhandled[0]["msg"][:300]))
    if unclear:
        problems.append("%d failures without a status or code: %s" % (len(unclear), unclear[0]["msg"][:300]))
    if 100.0 * len(failed) / max(1, len(rows)) > args.max_failed_percent:
        problems.append("%.2f%% of devices failed (at most %.1f%% allowed)" % (
            100.0 * len(failed) / len(rows), args.max_failed_percent))
    if bad_files or leftovers:
        problems.append("evidence not whole: %s" % ", ".join((bad_files + leftovers)[:5]))
    if not sum(injected.values()):
        problems.append("no fault was injected: the soak proved nothing")
    return problems


if __name__ == "__main__":
    sys.exit(main())
