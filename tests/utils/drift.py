"""The drift matrix: the integration targets that cover every module, run once per documented variant of the API.

Where Microsoft's documents disagree (for example Learn's api/run-live-response and live-response#limitations), the
emulator has a setting; each variant below runs the emulator
with one of them (through MDE_EMULATOR_SETTINGS, read by tests/utils/integration.sh) and the same targets must pass.
`make drift` runs every variant; `make test` runs one, chosen by the day of the year, so the whole matrix turns
over within a couple of weeks of CI runs. Prints a matrix of variants x targets and exits non-zero on any failure.

    python tests/utils/drift.py [--variants all|rotating|NAME,...] [--targets T1,T2,...]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGS = os.path.join(ROOT, "tests", "output", "drift")

# name -> (emulator settings, what the documents say)
VARIANTS = {
    "liveresponse_status_200": ({"liveresponse_status": 200}, "one old example answers runliveresponse with 200"),
    "last_update_time_utc": ({"last_update_field": "lastUpdateTimeUtc"},
                             "list examples spell lastUpdateTimeUtc, the entity docs lastUpdateDateTimeUtc"),
    "cancel_final_unchanged": ({"cancel_final": "unchanged"},
                               "what cancelling a final action returns is undocumented: 200 with it unchanged"),
    "getfile_raw": ({"getfile_encoding": "raw"}, "GetFile results served as they are, not gzip"),
    "session_cap_50": ({"session_cap": 50}, "one later Learn page: 50 concurrent sessions (not 25)"),
    "queue_limit_2h": ({"queue_limit_seconds": 7200}, "2025 docs: an unavailable device queues 2 hours (not 3 days)"),
    "repeat_legacy": ({"repeat_code": "legacy"}, "older answers to a repeat: 400 'Action is already in progress'"),
    "command_limit_30m": ({"runscript_timeout_seconds": 1800},
                          "Learn live-response#limitations: run may take 30 minutes"),
    "package_uri_unquoted": ({"package_uri_quoted": False}, "getPackageUri's value without the documented quotes"),
    "offboard_201": ({"offboard_status": 201}, "offboard answers 201 (the doc says '200 - Created')"),
    # Learn states each API's limits "for this API"; a tenant that counts them in one pool is met with rate_pool
    # single (write_integration_config.py hands it to the targets when the emulator runs this way).
    "rate_pool_single": ({"rate_pool": "single"}, "one pool for every API with the standard limits, not one each"),
}
# One target per module at least.
TARGETS = ("defender_app_restriction", "defender_av_scan", "defender_cancel_action", "defender_indicator",
           "defender_investigation_package", "defender_isolation", "defender_library_file", "defender_live_response",
           "defender_machine_action_info", "defender_machine_info", "defender_machine_tags", "defender_offboard",
           "defender_quarantine_file")


def rotating():
    names = sorted(VARIANTS)
    return [names[time.gmtime().tm_yday % len(names)]]


def run(variant, settings, targets, collection):
    """All targets against one emulator in this variant, as make integration runs them; {target: passed}."""
    env = dict(os.environ, MDE_EMULATOR_SETTINGS=json.dumps(settings))
    started = time.monotonic()
    done = subprocess.run(["bash", os.path.join(ROOT, "tests", "utils", "integration.sh"), collection,
                           "--continue-on-error"] + list(targets),
                          env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    log = os.path.join(LOGS, "%s.log" % variant)
    with open(log, "w") as handle:
        handle.write(output)
    ran = set(re.findall(r"Running (\S+) integration test", output))
    failed = set(re.findall(r"Command \"ansible-playbook (\S+?)-[a-z0-9_]+\.yml", output))
    if done.returncode != 0:
        print("  failed: %s (the whole output is in %s); the failing tasks:" % (", ".join(sorted(failed)) or "?", log))
        lines = output.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("fatal:") and "...ignoring" not in "".join(lines[index + 1:index + 3]):
                print("    " + line[:600])
    results = dict((t, t in ran and t not in failed) for t in targets)
    if done.returncode != 0 and not failed:  # failed outside a playbook: count every target as failed
        results = dict((t, False) for t in targets)
    return results, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="all")
    parser.add_argument("--targets", default=",".join(TARGETS))
    args = parser.parse_args()
    if args.variants == "all":
        chosen = sorted(VARIANTS)
    elif args.variants == "rotating":
        chosen = rotating()
    else:
        chosen = args.variants.split(",")
        unknown = [v for v in chosen if v not in VARIANTS]
        if unknown:
            parser.error("unknown variant(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(VARIANTS))))
    targets = args.targets.split(",")
    if not os.path.isdir(LOGS):
        os.makedirs(LOGS)
    collection = subprocess.check_output(["bash", os.path.join(ROOT, "tests", "utils", "layout.sh")],
                                         text=True).strip()
    matrix, walls = {}, {}
    for variant in chosen:
        settings, why = VARIANTS[variant]
        print("=== variant %s: %s (%s)" % (variant, json.dumps(settings), why), flush=True)
        matrix[variant], walls[variant] = run(variant, settings, targets, collection)
    width = max(len(t) for t in targets)
    print("\nDrift matrix: %d variant(s) x %d target(s)" % (len(chosen), len(targets)))
    for number, variant in enumerate(chosen, 1):
        print("  [%d] %s: %s, %.0f s" % (number, variant, json.dumps(VARIANTS[variant][0]), walls[variant]))
    print("%-*s  %s" % (width, "target", " ".join("[%d]" % n for n in range(1, len(chosen) + 1))))
    for target in targets:
        print("%-*s  %s" % (width, target, " ".join(
            ("ok " if matrix[v][target] else "XX ") + " " * (len(str(n)) - 1) for n, v in enumerate(chosen, 1))))
    failed = [(v, t) for v in chosen for t in targets if not matrix[v][t]]
    print("%d of %d runs passed%s" % (len(chosen) * len(targets) - len(failed), len(chosen) * len(targets),
                                      "" if not failed else "; failed: " + ", ".join("%s/%s" % f for f in failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
