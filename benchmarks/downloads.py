"""Download benchmark: figures, never assertions. `make bench-downloads` (or .venv/bin/python benchmarks/downloads.py).

The emulator serves a GetFile result of --size MB (512 by default; incompressible, as evidence often is), gzip and
raw (the setting getfile_encoding), over HTTPS on 127.0.0.1. On the same result link, side by side:
  curl  curl -o FILE: the bytes as they come, written to disk;
  ours  the collection's download path in a process of its own (DefenderClient.download_fresh into AttemptWriters,
        checked and committed as live response does: Content-Length, Content-MD5, gzip unpacked, sha256 of the file).
For each: MB/s of the bytes sent (best of --repeat), ours/curl, and our process's peak RSS.

The figures depend on what else the machine runs: ours hashes (MD5 for Content-MD5, SHA-256 of the file) and
unpacks besides reading, on threads beside the reads, so on a busy machine its share of the cores decides.

    python benchmarks/downloads.py [--size 512] [--repeat 2] [--encodings gzip,raw]
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # this checkout's emulator, whatever the venv installed

from mde_emulator import Emulator  # noqa: E402
from mde_emulator.seeding import load_seed  # noqa: E402
from mde_emulator.testclient import WS1, Client  # noqa: E402

REMOTE = "C:\\Windows\\Temp\\memory.dmp"


def collection_root():
    out = subprocess.check_output(["bash", os.path.join(ROOT, "tests", "utils", "layout.sh")], text=True)
    return os.path.dirname(os.path.dirname(os.path.dirname(out.strip())))


def child(args):
    """Our download of one link, in a process of its own so that its peak RSS is its own."""
    sys.path.insert(0, args.collections)
    from ansible_collections.secops.defender.plugins.module_utils._client import DefenderClient
    from ansible_collections.secops.defender.plugins.module_utils._files import AttemptWriters, commit_unpacked
    client = DefenderClient(args.api_url, token_provider=None, verify=args.ca, download_hosts=["127.0.0.1"])
    writers = AttemptWriters(args.dest, "memory.dmp", inflate=True)  # as live response brings GetFile home
    unpacked = []
    started = time.monotonic()
    sent = client.download_fresh(lambda: args.link, writers, check=lambda w: unpacked.append(commit_unpacked(w)))
    seconds = time.monotonic() - started
    final = writers.last
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "sent": sent, "size": final.size, "sha256": final.sha256,
                      "unpacked": unpacked[-1], "maxrss_kb": peak_rss_kb(), "cpu": usage.ru_utime + usage.ru_stime}))


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
    return client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % action["id"]).json()["value"]


def timed_curl(link, ca, dest):
    """curl's wall seconds, the bytes it wrote, and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(["curl", "-sS", "--fail", "--cacert", ca, "-o", dest, link], check=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, os.path.getsize(dest), cpu


def ours(link, info, collections, dest):
    done = subprocess.run([sys.executable, __file__, "--child", "--link", link, "--api-url", info["api_url"],
                           "--ca", info["ca_path"], "--dest", dest, "--collections", collections],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit("our download failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="the file's size in MB")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--encodings", default="gzip,raw")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--link", "--api-url", "--ca", "--dest", "--collections"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    workdir = tempfile.mkdtemp(prefix="secops-bench-downloads-")
    content = os.urandom(args.size * 1024 * 1024)
    expected = hashlib.sha256(content).hexdigest()
    seed = load_seed()
    seed["settings"] = {"clock_speed": 100.0}
    for machine in seed["machines"]:
        if machine["id"] == WS1:
            machine.setdefault("files", {})[REMOTE] = {"content": content}
    del content
    collections = collection_root()
    print("Download benchmark: a %d MB GetFile result (incompressible), curl and ours on the same link, best of %d"
          % (args.size, args.repeat))
    try:
        with Emulator(seed, state_dir=os.path.join(workdir, "emulator")) as emu:
            serve_results_once(emu)
            client, info = Client(emu), emu.info()
            for encoding in args.encodings.split(","):
                client.control("POST", "/settings", {"getfile_encoding": encoding})
                client.control("POST", "/clock", {"speed": 100.0})
                link = result_link(client, emu)
                curl_best, ours_best = None, None
                for attempt in range(args.repeat):
                    target = os.path.join(workdir, "curl-%s-%d" % (encoding, attempt))
                    seconds, sent, cpu = timed_curl(link, info["ca_path"], target)
                    os.unlink(target)
                    if curl_best is None or seconds < curl_best[0]:
                        curl_best = (seconds, cpu)
                    folder = os.path.join(workdir, "ours-%s-%d" % (encoding, attempt))
                    os.makedirs(folder)
                    result = ours(link, info, collections, folder)
                    shutil.rmtree(folder)
                    if result["sha256"] != expected:
                        raise SystemExit("our download of the %s result does not hash as the file" % encoding)
                    if ours_best is None or result["seconds"] < ours_best["seconds"]:
                        ours_best = result
                mb = sent / 1048576.0
                curl_rate, ours_rate = mb / curl_best[0], mb / ours_best["seconds"]
                print("(%s) %.1f MB sent%s" % (encoding, mb, ", unpacked by ours to %.1f MB" % (
                    ours_best["size"] / 1048576.0) if ours_best["unpacked"] else ""))
                print("  curl %6.1f MB/s (%.2f s; %.2f CPU s)" % (curl_rate, curl_best[0], curl_best[1]))
                print("  ours %6.1f MB/s (%.2f s; %.2f CPU s), %.0f%% of curl; peak RSS %.1f MB; sha256 of the file "
                      "checked" % (ours_rate, ours_best["seconds"], ours_best["cpu"], 100.0 * ours_rate / curl_rate,
                                   ours_best["maxrss_kb"] / 1024.0))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
