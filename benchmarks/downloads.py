"""Download benchmark: figures, never assertions. `make bench-downloads` (or .venv/bin/python benchmarks/downloads.py).

The emulator serves a GetFile result of --size MB (512 by default; incompressible, as evidence often is), gzip and
raw (the setting getfile_encoding), over HTTPS on 127.0.0.1. On the same result link, in turns:
  curl       curl --compressed -o FILE: the bytes as they come, written to a file on the same disk (the result is
             sent as application/gzip, not with Content-Encoding, so --compressed leaves it packed);
  curl|gunzip  (gzip only) curl piped into gzip -dc > FILE: the bytes unpacked as they come, on two processes;
  curl|md5+sha (raw, with Content-MD5) curl piped into tee FILE, md5sum and sha256sum: the checks ours makes, on
             processes of their own;
  curl|sha   (raw, without Content-MD5) curl piped into tee FILE and sha256sum: the same, when there is no MD5;
  ours       the collection's download path in a process of its own (DefenderClient.download_fresh into AttemptWriters,
             checked and committed as live response does: Content-Length, Content-MD5, gzip unpacked, sha256 of the
             file).
Each round runs all of them, in an order that rotates from round to round, so a burst of load from elsewhere on the
machine falls on each in turn; the figures are the median of --repeat rounds and their spread (fastest..slowest).
For each: MB/s of the bytes sent, ours/curl of the medians, CPU seconds (ours: of the download alone, not of Python's
start), and our process's peak RSS (VmHWM), page faults and CPU seconds by thread (the busiest thread bounds the
speed on a machine with a core for each).

Each encoding is measured twice: with Content-MD5, then without (--content-md5 sent|absent picks one). With it, ours
checks it, and the benchmark also prints how fast MD5 alone runs on one core here: MD5 is a chain no second core can
share, so that is the most any client that checks it can reach. The storage's Content-MD5 is computed once per
result, as storage keeps it from the upload; the emulator would hash the body again before every answer, which would
time the emulator, not the client (--emulator-md5 keeps that). Without it is what storage sends for a blob uploaded in
blocks without an MD5.

Each contender starts with the same free memory: just before its timer, 64 MB more than the file are written to a
scratch file and unlinked (see warm_start: on a VM that hands freed memory back to its host, the first touch of a page
costs more than the download, and who paid for it would otherwise depend on how long each took to start).

--collections LABEL=PATH (repeatable) times other builds of the collection (a directory holding ansible_collections,
e.g. one laid out from an older commit) in the same rounds, so that a before/after is measured on the same load.

The figures depend on what else the machine runs: ours hashes (MD5 for Content-MD5, SHA-256 of the file) and
unpacks besides reading, on threads beside the reads, so on a busy machine its share of the cores decides.

    python benchmarks/downloads.py [--size 512] [--repeat 5] [--encodings gzip,raw] [--content-md5 both|sent|absent]
                                   [--collections before=DIR] [--no-warm-start] [--cpus 0]
"""

import argparse
import base64
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # this checkout's emulator, whatever the venv installed

from mde_emulator import Emulator  # noqa: E402
from mde_emulator import server as emulator_server  # noqa: E402
from mde_emulator.seeding import load_seed  # noqa: E402
from mde_emulator.testclient import WS1, Client  # noqa: E402

REMOTE = "C:\\Windows\\Temp\\memory.dmp"
# The contenders' command prefix: `taskset -c CPUS` with --cpus (as a container limited to fewer cores), else none.
PINNED = []


def cpu_list(text):
    """The CPUs of a taskset list: "0", "0,1", "0-3"."""
    cpus = set()
    for part in text.split(","):
        first, _dash, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return sorted(cpus)


def warm_start(directory, megabytes):
    """Give the contender about to run the page cache the one before it had: write `megabytes` to a scratch file
    and unlink it, so that the pages its file will take are free in the guest. A VM whose hypervisor takes back the
    memory the guest frees (virtio-balloon free page reporting, as on this project's machines) hands them back
    about 2 s after they are freed, and the first touch of a page taken back costs more than the download: 512 MB
    written cost 0.4-0.7 s of CPU after a pause of 2 s or more, 0.09 s right after another 512 MB was unlinked.
    Without this, which contender pays for that depends on how long it took to start (curl: milliseconds; ours, a
    Python process: about a second), not on how it downloads. --no-warm-start leaves it to chance."""
    if not megabytes:
        return
    path = os.path.join(directory, ".warm-start")
    block = bytes(1024 * 1024)
    with open(path, "wb") as handle:
        for _megabyte in range(megabytes):
            handle.write(block)
    os.unlink(path)


def collection_root(workdir):
    env = dict(os.environ)
    env.setdefault("SECOPS_BUILD_DIR", os.path.join(workdir, "build"))  # never a build dir someone else uses
    out = subprocess.check_output(["bash", os.path.join(ROOT, "tests", "utils", "layout.sh")], text=True, env=env)
    return os.path.dirname(os.path.dirname(os.path.dirname(out.strip())))


def child(args):
    """Our download of one link, in a process of its own so that its peak RSS is its own."""
    sys.path.insert(0, args.collections)
    from ansible_collections.secops.defender.plugins.module_utils._client import DefenderClient
    from ansible_collections.secops.defender.plugins.module_utils._files import AttemptWriters, commit_unpacked
    stages = time_stages()
    client = DefenderClient(args.api_url, token_provider=None, verify=args.ca, download_hosts=["127.0.0.1"])
    writers = AttemptWriters(args.dest, "memory.dmp", inflate=True)  # as live response brings GetFile home
    unpacked = []
    warm_start(args.dest, int(args.warm))
    started, cpu, faults = time.monotonic(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    reads = time.thread_time()
    sent = client.download_fresh(lambda: args.link, writers, check=lambda w: unpacked.append(commit_unpacked(w)))
    seconds = time.monotonic() - started
    stages["read"] = time.thread_time() - reads
    final = writers.last
    print(json.dumps({"seconds": seconds, "sent": sent, "size": final.size, "sha256": final.sha256,
                      "unpacked": unpacked[-1], "maxrss_kb": peak_rss_kb(), "cpu": time.process_time() - cpu,
                      "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults, "stages": stages}))


def time_stages():
    """The CPU seconds of each stage thread (Beside) by what it does: with a core for each, the download cannot go
    faster than its busiest thread (`read` is the thread that reads, and runs whatever is not beside it)."""
    from ansible_collections.secops.defender.plugins.module_utils import _downloads, _files
    stages = {}
    for beside in set(getattr(module, "Beside", None) for module in (_downloads, _files)) - set([None]):
        def run(self, original=beside._run):
            started = time.thread_time()
            try:
                original(self)
            finally:
                owner = getattr(self._work, "__self__", None)
                name = getattr(owner, "name", None) or getattr(self._work, "__name__", "stage")  # md5, sha256, write
                stages[name] = stages.get(name, 0.0) + time.thread_time() - started
        beside._run = run
    return stages


def peak_rss_kb():
    """This process's peak RSS. VmHWM, not ru_maxrss: after fork and exec, ru_maxrss starts from the parent's
    RSS (here the emulator holding the file), which says nothing of the child."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (IOError, OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def serve_results_once(emu):
    """Pack each result once: the emulator gzips on every request, which would time the emulator, not the client."""
    original, cache = emu.tenant.command_result, {}

    def cached(action, index):
        key = (action.id, index, emu.tenant.settings["getfile_encoding"])
        if key not in cache:
            cache.clear()
            cache[key] = original(action, index)
        return cache[key]
    emu.tenant.command_result = cached


def md5_once(sending):
    """Content-MD5 as storage sends it: computed once per body (storage keeps it from the upload), not per request;
    none at all while `sending["md5"]` is false (storage has none for a blob uploaded in blocks without one)."""
    original, memo = emulator_server._served, {}

    def served(data, mimetype, entry, after):
        if after:  # a fault: as the emulator serves it
            return original(data, mimetype, entry, after)
        if not sending["md5"]:  # a blob uploaded without an MD5
            return emulator_server.Response(data, 200, mimetype=mimetype)
        if memo.get("data") is not data:
            memo.update(data=data, md5=base64.b64encode(hashlib.md5(data).digest()).decode("ascii"))
        return emulator_server.Response(data, 200, mimetype=mimetype, headers={"Content-MD5": memo["md5"]})
    emulator_server._served = served


def md5_alone(megabytes, chunk=1024 * 1024):
    """MB/s of MD5 alone on one core (OpenSSL's, through hashlib, 1 MB at a time): MD5 is a chain, which no second
    core can share, so no client that checks the storage's Content-MD5 can download faster than this."""
    block = memoryview(os.urandom(64 * chunk))
    best = None
    for _round in range(3):
        md5 = hashlib.new("md5", usedforsecurity=False)
        started = time.thread_time()
        for index in range(megabytes):
            md5.update(block[(index % 64) * chunk:(index % 64 + 1) * chunk])
        seconds = time.thread_time() - started
        best = seconds if best is None else min(best, seconds)
    return megabytes / best


def result_link(client, emu):
    """A completed GetFile of REMOTE on WS1, and its result link."""
    action = client.live_response(commands=[{"type": "GetFile", "params": [{"key": "Path", "value": REMOTE}]}]).json()
    for _attempt in range(600):
        action = client.get("/api/machineactions/%s" % action["id"]).json()
        if action["status"] in ("Succeeded", "Failed", "Cancelled", "TimeOut"):
            break
        client.control("POST", "/clock", {"advance": 5})
        time.sleep(0.05)
    assert action["status"] == "Succeeded", action
    client.control("POST", "/clock", {"speed": 1.0})  # the link lives 30 minutes of emulated time: real ones now
    with emu.tenant.lock:  # pack it now: the first request must not wait for gzip
        emu.tenant.command_result(emu.tenant.get_action(action["id"]), 0)
    link = "/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action["id"]
    return client.get(link).json()["value"]


def timed_curl(link, ca, dest, gunzip=False, hashes=None):
    """curl's wall seconds and the CPU seconds it used (with gzip -dc beside it when `gunzip`; with sha256sum, and
    md5sum when `hashes` is "md5+sha", beside it when `hashes`: the same checks as ours, on processes of their
    own)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    fetch = 'set -o pipefail; curl -sS --fail --cacert "$1" "$2" '
    if hashes == "sha":
        command = ["bash", "-c", fetch + '| tee "$3" | sha256sum > /dev/null', "curl", ca, link, dest]
    elif hashes:
        command = ["bash", "-c", fetch + '| tee >(sha256sum > "$3.sha256") "$3" | md5sum > /dev/null; wait $!',
                   "curl", ca, link, dest]
    elif gunzip:
        command = ["bash", "-c", fetch + '| gzip -dc > "$3"', "curl", ca, link, dest]
    else:
        command = ["curl", "-sS", "--fail", "--compressed", "--cacert", ca, "-o", dest, link]
    subprocess.run(PINNED + command, check=True)
    if hashes and hashes != "sha":
        os.unlink(dest + ".sha256")
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(dest)
    return {"seconds": seconds, "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def ours(link, info, collections, dest, expected, warm):
    os.makedirs(dest)
    try:
        command = [sys.executable, __file__, "--child", "--link", link, "--api-url", info["api_url"],
                   "--ca", info["ca_path"], "--dest", dest, "--collections", collections, "--warm", str(warm)]
        done = subprocess.run(PINNED + command, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit("our download failed:\n" + done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["sha256"] != expected:
        raise SystemExit("our download does not hash as the file")
    return result


def server_cpu():
    """This process's CPU seconds: the emulator serves from threads of this process, and the rest of it waits on
    the contender, so the difference across one download is what serving it cost (on the same two cores)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summary(runs, mb):
    """Median seconds and MB/s, the spread of the rounds as MB/s (slowest..fastest), median CPU seconds."""
    seconds = sorted(run["seconds"] for run in runs)
    median = statistics.median(seconds)
    text = "%6.1f MB/s (median %.2f s of %d; spread %.1f..%.1f MB/s; CPU %.2f s%s; the emulator's CPU %.2f s)" % (
        mb / median, median, len(runs), mb / seconds[-1], mb / seconds[0], statistics.median(r["cpu"] for r in runs),
        "; %d page faults" % statistics.median(r["faults"] for r in runs) if "faults" in runs[0] else "",
        statistics.median(r["server_cpu"] for r in runs))
    return median, text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="the file's size in MB")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the figures are their median")
    parser.add_argument("--encodings", default="gzip,raw")
    parser.add_argument("--emulator-md5", action="store_true",
                        help="let the emulator hash the body before every answer (as it does in tests)")
    parser.add_argument("--content-md5", choices=("both", "sent", "absent"), default="both",
                        help="whether the storage sends Content-MD5 (ours computes MD5 only when it does); both: "
                             "each encoding is measured with it, then without it")
    parser.add_argument("--no-content-md5", dest="content_md5", action="store_const", const="absent",
                        help="the same as --content-md5 absent")
    parser.add_argument("--collections", action="append", default=[], metavar="LABEL=PATH",
                        help="another build to time beside this checkout's (a directory holding ansible_collections)")
    parser.add_argument("--no-warm-start", action="store_true",
                        help="do not free pages for each contender before its timer starts (see warm_start)")
    parser.add_argument("--cpus", metavar="LIST",
                        help="run every contender on these CPUs only (taskset -c LIST, e.g. 0), as a container with "
                             "a CPU limit would; the emulator keeps every core")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--link", "--api-url", "--ca", "--dest", "--warm"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.collections = args.collections[-1]
        return child(args)
    if args.cpus:
        PINNED[:] = ["taskset", "-c", args.cpus]
    workdir = tempfile.mkdtemp(prefix="secops-bench-downloads-")
    builds = [tuple(item.split("=", 1)) for item in args.collections] + [("ours", collection_root(workdir))]
    content = os.urandom(args.size * 1024 * 1024)
    expected = hashlib.sha256(content).hexdigest()
    seed = load_seed()
    seed["settings"] = {"clock_speed": 100.0}
    for machine in seed["machines"]:
        if machine["id"] == WS1:
            machine.setdefault("files", {})[REMOTE] = {"content": content}
    del content
    bench = {"args": args, "builds": builds, "expected": expected, "workdir": workdir,
             # What a contender's file and its buffers take, freed for it just before its timer starts.
             "warm": 0 if args.no_warm_start else args.size + 64}
    modes = {"both": (True, False), "sent": (True,), "absent": (False,)}[args.content_md5]
    print("Download benchmark: a %d MB GetFile result (incompressible), curl and ours on the same link, %d rounds in "
          "rotating order, medians%s" % (args.size, args.repeat, "; every contender on CPU(s) %s only" % args.cpus
                                         if args.cpus else ""))
    try:
        with Emulator(seed, state_dir=os.path.join(workdir, "emulator")) as emu:
            serve_results_once(emu)
            sending = {"md5": True}
            if not args.emulator_md5:
                md5_once(sending)
            client = Client(emu)
            for md5 in modes:
                sending["md5"] = md5
                print("\n%s" % ("With Content-MD5 (%s; ours checks it)" % (
                    "the emulator hashes each answer" if args.emulator_md5 else "computed once per result, as "
                    "storage keeps it") if md5 else "Without Content-MD5 (a blob uploaded in blocks; ours computes "
                    "no MD5)"))
                if md5:
                    bench["md5_alone"] = md5_alone(args.size)
                for encoding in args.encodings.split(","):
                    client.control("POST", "/settings", {"getfile_encoding": encoding})
                    client.control("POST", "/clock", {"speed": 100.0})
                    measure(bench, emu, client, encoding, md5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def measure(bench, emu, client, encoding, md5):
    """Every contender on one result link, --repeat rounds in rotating order; prints their figures."""
    args, builds, workdir, warm, info = bench["args"], bench["builds"], bench["workdir"], bench["warm"], emu.info()
    link = result_link(client, emu)
    # The first answer packs nothing more but warms the page cache and the emulator's MD5: not timed.
    timed_curl(link, info["ca_path"], os.path.join(workdir, "warm"))
    # Raw, ours does what curl piped into sha256sum (and md5sum, with Content-MD5) does: the like for like beside
    # plain curl (which checks nothing).
    hashed = ("curl|md5+sha" if md5 else "curl|sha") if encoding == "raw" else None
    contenders = [("curl", None)] + ([("curl|gunzip", None)] if encoding == "gzip" else []) + (
        [(hashed, None)] if hashed else []) + builds
    runs = dict((label, []) for label, _path in contenders)
    for attempt in range(args.repeat):
        turn = attempt % len(contenders)
        for label, path in contenders[turn:] + contenders[:turn]:
            target = os.path.join(workdir, "%s-%s-%d" % (label.replace("|", "-"), encoding, attempt))
            if path is None:  # ours frees its pages in its own process, after its start
                warm_start(workdir, warm)
            serving = server_cpu()
            if path is None:
                runs[label].append(timed_curl(link, info["ca_path"], target, gunzip=label == "curl|gunzip",
                                              hashes=label[len("curl|"):] if label == hashed else None))
            else:
                runs[label].append(ours(link, info, path, target, bench["expected"], warm))
            runs[label][-1]["server_cpu"] = server_cpu() - serving
    sent = runs[builds[-1][0]][-1]["sent"]
    mb = sent / 1048576.0
    print("(%s) %.1f MB sent%s" % (encoding, mb, ", unpacked by ours to %.1f MB" % (
        runs[builds[-1][0]][-1]["size"] / 1048576.0) if encoding == "gzip" else ""))
    curl_median, line = summary(runs["curl"], mb)
    print("  %-12s %s" % ("curl", line))
    # The pipe a careful user would write instead, when there is one: unpacked, or hashed as ours is.
    paired = "curl|gunzip" if "curl|gunzip" in runs else hashed
    if paired:
        paired_median, line = summary(runs[paired], mb)
        print("  %-12s %s" % (paired, line))
    for label, _path in builds:
        median, line = summary(runs[label], mb)
        print("  %-12s %s" % (label, line))
        print("  %-12s %.0f%% of curl%s; peak RSS %.1f MB (the highest of the rounds); sha256 checked"
              % ("", 100.0 * curl_median / median, ", %.0f%% of %s" % (100.0 * paired_median / median, paired)
                 if paired else "", max(run["maxrss_kb"] for run in runs[label]) / 1024.0))
        # On a machine whose cores are all busy, no download of ours can take less than the CPU seconds it and the
        # emulator spend, shared over the cores: the ceiling of "% of curl" here. Pinned (--cpus), ours has its
        # CPUs to itself and the emulator the others, as far as the scheduler keeps them apart.
        cores = os.cpu_count() or 1
        if args.cpus:
            pinned = len(cpu_list(args.cpus))
            spent = statistics.median(r["cpu"] for r in runs[label]) / pinned
            print("  %-12s the cores' floor: our CPU / %d CPU(s) = %.2f s, so at most %.0f%% of curl on these CPUs" % (
                "", pinned, spent, 100.0 * curl_median / max(spent, 1e-9)))
        else:
            spent = statistics.median(r["cpu"] + r["server_cpu"] for r in runs[label]) / cores
            print("  %-12s the cores' floor: (our CPU + the emulator's) / %d cores = %.2f s, so at most %.0f%% of curl "
                  "on this machine" % ("", cores, spent, 100.0 * curl_median / max(spent, 1e-9)))
        if md5:
            print("  %-12s MD5 alone runs at %.0f MB/s on one core here, %.0f%% of curl: no client that checks the "
                  "Content-MD5 can go faster" % ("", bench["md5_alone"], 100.0 * bench["md5_alone"] * curl_median / mb))
        names = sorted(runs[label][0]["stages"])
        print("  %-12s CPU s by thread (median): %s" % ("", ", ".join("%s %.2f" % (name, statistics.median(
            run["stages"].get(name, 0.0) for run in runs[label])) for name in names)))


if __name__ == "__main__":
    sys.exit(main())
