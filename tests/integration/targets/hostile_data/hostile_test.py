"""The hostile-data suite: every text the API returns carries Jinja payloads, and nothing of it may run.

It starts an emulator of its own (the hostile seed would disturb the other targets' devices), then runs what a user
runs: ansible-inventory and a play on the inventory (compose, keyed_groups, groups), the lookup, every role, both
playbooks, the event source and the shipped rulebook with the real ansible-rulebook. It then looks for:
- marker files: each payload that calls lookup('pipe', 'touch ...') names a file of its own, so a marker says which
  text of which entity ran;
- "==1337==": the payload "=={{ 7*191 }}==" rendered (framed, so a random id holding 1337 cannot match);
- files written outside each task's dest, from device names and GetFile paths with "..", "/", "\\", NUL, newlines
  and reserved names;
- the remediation itself: the alerts' files quarantined and their devices isolated, in the emulator's state;
- a step that failed: a payload must not break the play either.
Every step runs even after one fails, and all findings are printed at the end.
"""

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
EXTENSION = os.path.join("extensions", "eda", "plugins", "event_source", "alerts.py")
RULEBOOK = os.path.join("extensions", "eda", "rulebooks", "quarantine_and_isolate.yml")
RESPONDER = "11111111-1111-4111-8111-111111111111"
FRAMED_MATH = "=={{ 7*191 }}=="
RENDERED_MATH = "==1337=="
SHA1_QUARANTINE = "badc0ffee0badc0ffee0badc0ffee0badc0ffee0"
SHA1_A = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
SHA1_B = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
SHA256_A = "c3" * 32
SCRIPT = "collect_triage.ps1"
# The documented limits with windows a tenth as long, in the emulator and in the client's budget alike, so the
# suite's 20-odd live response sessions are paced as in a tenant, in seconds rather than minutes.
RATE_LIMITS = {"default": [[100, 6], [1500, 360]], "runliveresponse": [[10, 6]], "getpackageuri": [[2, 6], [120, 360]]}
TRIAGE = "C:\\Windows\\Temp\\secops-triage.zip"


class Payloads:
    """Jinja payloads; those that run a command touch a marker named after the text they sit in."""

    def __init__(self, markers):
        self.markers = markers

    def _touch(self, label):
        return "lookup('pipe', 'touch %s')" % os.path.join(self.markers, label)

    def expr(self, label):
        return "{{ %s }}" % self._touch(label)

    def stmt(self, label):
        return "{%% set _hostile = %s %%}" % self._touch(label)

    def breakout(self, label):
        return "{%% endraw %%}{{ %s }}{%% raw %%}" % self._touch(label)

    def several(self, label, kinds):
        """One text with several payloads of the given kinds, and the framed arithmetic."""
        return " ".join([getattr(self, kind)("%s.%s" % (label, kind)) for kind in kinds] + [FRAMED_MATH])


KIND_SETS = (("expr", "stmt"), ("breakout",), ("stmt", "expr"), ("expr",))
PATH_NAMES = ("..", "../../escaped-device", "a/b\\c", "CON", "nul.txt", "x\u0000y", "line\nbreak",
              "/escaped-absolute", "C:\\Windows\\escaped-win")


def hostile_seed(payloads):
    from mde_emulator.seeding import load_seed
    base = load_seed("default")
    seed = {"tenant_id": base["tenant_id"], "apps": base["apps"],
            "settings": {"clock_speed": 30, "rate_limits": RATE_LIMITS}}
    hostile, paths = [], []
    for i, kinds in enumerate(KIND_SETS):
        label = "dev%d" % i
        hostile.append({
            "id": ("%x" % (10 + i)) * 40,
            "computerDnsName": "hx%d %s" % (i, payloads.several(label + ".name", kinds)),
            "machineTags": ["hostile", "t%d %s" % (i, payloads.several(label + ".tag", kinds))],
            "rbacGroupName": payloads.several(label + ".rbac", kinds),
            "osVersion": payloads.several(label + ".osversion", kinds),
            "online": i != 3,   # the last one is offline: its actions stay pending, for cancel_pending_actions
        })
    for i, name in enumerate(PATH_NAMES):
        paths.append({"id": "%02x" % (0x40 + i) * 20, "computerDnsName": name, "machineTags": ["pathdev"]})
    seed["machines"] = hostile + paths
    # The script's output and errors carry payloads; it leaves the triage file and files at hostile paths.
    creates = dict((p, {"content": "evidence at %r\n" % p}) for p in [TRIAGE] + getfile_paths())
    seed["library"] = [
        {"fileName": "hx-%s" % payloads.expr("library.name"), "content": "Write-Output 1",
         "description": payloads.several("library.description", ("expr", "stmt"))},
        {"fileName": SCRIPT, "content": "Write-Output triage",
         "description": payloads.several("script.description", ("breakout",))},
    ]
    seed["scripts"] = {SCRIPT: {"output": payloads.several("script.output", ("expr", "stmt")),
                                "errors": payloads.several("script.errors", ("breakout",)), "creates": creates}}
    a, b = hostile[0]["id"], hostile[1]["id"]
    seed["alerts"] = [
        {"id": "da637000000000000001_-1", "severity": "High", "machineId": a, "category": "Malware",
         "title": payloads.several("alertA.title", ("expr", "stmt")),
         "description": payloads.several("alertA.description", ("stmt",)),
         "evidence": [{"entityType": "File", "sha1": SHA1_A, "sha256": SHA256_A,
                       "fileName": payloads.several("alertA.fileName", ("breakout",)),
                       "filePath": payloads.several("alertA.filePath", ("expr",))},
                      # a hostile API's evidence: a "hash" that is a template; the event must leave it out
                      {"entityType": "File", "sha1": payloads.expr("alertA.sha1"), "fileName": "x"}]},
        {"id": "da637000000000000002_-2", "severity": "High", "machineId": b, "category": "Execution",
         "title": payloads.several("alertB.title", ("breakout",)),
         "description": payloads.several("alertB.description", ("expr", "stmt")),
         "evidence": [{"entityType": "File", "sha1": SHA1_B, "fileName": payloads.several("alertB.fileName",
                                                                                          ("stmt",)),
                       "filePath": payloads.several("alertB.filePath", ("expr", "stmt"))}]},
    ]
    seed["indicators"] = [
        {"indicatorValue": SHA1_QUARANTINE, "indicatorType": "FileSha1", "action": "Alert",
         "title": payloads.several("indicator.title", ("expr", "stmt")),
         "description": payloads.several("indicator.description", ("breakout",))},
    ]
    return seed, [m["id"] for m in hostile], [m["id"] for m in paths]


# GetFile paths in hostile shapes (a user's own paths carry no templates: they are the user's input). The module
# refuses control characters in a path before anything is sent; the others must land inside dest.
PRINTABLE_PATHS = ["C:\\Windows\\Temp\\..\\..\\escaped-getfile.txt", "C:\\Temp\\CON", "C:\\Temp\\nul.txt",
                   "/tmp/../../escaped-posix.txt", "C:\\Temp\\.hidden", "C:\\Temp\\trailing. ", "C:\\Temp\\..",
                   "C:\\Temp\\a/../../escaped-mixed"]
CONTROL_PATHS = ["C:\\Temp\\line\nbreak.txt", "C:\\Temp\\nul\u0000byte.txt"]


def getfile_paths():
    return PRINTABLE_PATHS + CONTROL_PATHS


class Emulator:
    def __init__(self, workdir, seed):
        self.dir = os.path.join(workdir, "emulator")
        os.makedirs(self.dir)
        seed_path = os.path.join(self.dir, "seed.json")
        with open(seed_path, "w") as handle:
            json.dump(seed, handle)
        info_path = os.path.join(self.dir, "info.json")
        self.log = open(os.path.join(self.dir, "emulator.log"), "w")
        self.process = subprocess.Popen(["mde-emulator", "--seed", seed_path, "--state-dir", self.dir,
                                         "--info-file", info_path], stdout=self.log, stderr=subprocess.STDOUT)
        for _attempt in range(600):
            if os.path.exists(info_path) and os.path.getsize(info_path) or self.process.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(info_path):
            self.log.close()
            with open(self.log.name) as log:
                raise SystemExit("the emulator did not start:\n" + log.read())
        with open(info_path) as handle:
            self.info = json.load(handle)
        self.secret = dict((a["client_id"], a) for a in self.info["apps"])[RESPONDER]["client_secret"]

    def control(self, method, path, body=None):
        response = requests.request(method, self.info["control_url"] + path, json=body, timeout=30,
                                    headers={"X-Emulator-Key": self.info["control_key"]}, verify=self.info["ca_path"])
        response.raise_for_status()
        return response.json()

    def env(self, cache_dir):
        """The connection as AWX injects it: environment variables, never task arguments."""
        return {"DEFENDER_TENANT_ID": self.info["tenant_id"], "DEFENDER_CLIENT_ID": RESPONDER,
                "DEFENDER_CLIENT_SECRET": self.secret, "DEFENDER_API_URL": self.info["api_url"],
                "DEFENDER_AUTHORITY_URL": self.info["authority_url"], "DEFENDER_CA_PATH": self.info["ca_path"],
                "DEFENDER_TOKEN_CACHE_DIR": cache_dir, "DEFENDER_RATE_LIMITS": json.dumps(RATE_LIMITS),
                "DEFENDER_DOWNLOAD_HOSTS": urlsplit(self.info["blob_url"]).hostname}

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def collection_file(relative):
    roots = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or ""
    for root in [r for r in roots.split(os.pathsep) if r]:
        path = os.path.join(root, "ansible_collections", "secops", "defender", relative)
        if os.path.exists(path):
            return path
    raise SystemExit("%s was not found under %s" % (relative, roots))


class Suite:
    def __init__(self, out):
        self.out = out
        self.logs = os.path.join(out, "logs")
        self.work = os.path.join(out, "work")
        self.markers = os.path.join(out, "markers")
        for folder in (self.logs, self.work, self.markers):
            os.makedirs(folder)
        self.failures = []
        self.env = None

    def run(self, name, argv, timeout=900):
        """Run one command; its output goes to logs/<name>.log, a non-zero exit is a finding."""
        started = time.time()
        with open(os.path.join(self.logs, name + ".log"), "w") as log:
            try:
                rc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, timeout=timeout,
                                    cwd=self.work, check=False).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        print("  %-28s exit %s (%.0f s)" % (name, rc, time.time() - started))
        if rc != 0:
            self.failures.append("%s exited %s; see %s" % (name, rc, os.path.join(self.logs, name + ".log")))
            with open(os.path.join(self.logs, name + ".log")) as log:
                print("".join(log.readlines()[-15:]))
        return rc

    def playbook(self, name, play, *args, inventory="localhost,"):
        local = ["-c", "local"] if inventory == "localhost," else []
        interpreter = ["-e", "ansible_python_interpreter=%s" % sys.executable]
        return self.run(name, ["ansible-playbook", "-i", inventory, play] + local + interpreter + list(args))

    def write_json(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, "w") as handle:
            json.dump(data, handle)
        return path


def run_source(suite, emulator, severities=("High",)):
    """The event source, as ansible-rulebook loads it, polling once; returns its events."""
    spec = importlib.util.spec_from_file_location("secops_defender_alerts", collection_file(EXTENSION))
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    queue = asyncio.Queue()
    args = {"once": True, "severities": list(severities), "lookback": "7d",
            "checkpoint": os.path.join(suite.work, "source-checkpoint.json")}
    saved = dict(os.environ)
    os.environ.update(suite.env)
    try:
        asyncio.run(source.main(queue, args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def rulebook(suite):
    import yaml
    with open(collection_file(RULEBOOK)) as handle:
        book = yaml.safe_load(handle)
    source = book[0]["sources"][0]["secops.defender.alerts"]
    source.update(once=True, lookback="7d", checkpoint=os.path.join(suite.work, "rulebook-checkpoint.json"))
    book[0]["rules"][0]["action"]["run_playbook"]["extra_vars"] = {"remediate_poll_interval": 1}
    path = os.path.join(suite.work, "rulebook.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(book, handle)
    inventory = os.path.join(suite.work, "rulebook-inventory.yml")
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                        "ansible_python_interpreter": sys.executable}}}}, handle)
    return suite.run("rulebook", ["ansible-rulebook", "-i", inventory, "--rulebook", path], timeout=600)


def check_remediation(emulator, device, sha1):
    """The alert's file quarantined (once) and its device isolated, in the emulator's state."""
    actions = emulator.control("GET", "/state")["actions"]
    quarantines = [a["status"] for a in actions if a["machineId"] == device and a["type"] == "StopAndQuarantineFile"
                   and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == sha1]
    isolations = sorted((a for a in actions if a["machineId"] == device and a["type"] in ("Isolate", "Unisolate")),
                        key=lambda a: a["creationDateTimeUtc"])
    problems = []
    if quarantines != ["Succeeded"]:
        problems.append("device %s: quarantines of %s are %s, not one that succeeded" % (device, sha1, quarantines))
    if not isolations or (isolations[-1]["type"], isolations[-1]["status"]) != ("Isolate", "Succeeded"):
        problems.append("device %s is not isolated: %s" % (device, [(a["type"], a["status"]) for a in isolations]))
    return problems


def escaped_files(suite, dests):
    """Files the tasks wrote outside their dest folders (anything under work/ that is not ours or in a dest),
    and anything named like the traversal targets anywhere above."""
    ours = {"emulator", "cache", "inventory-cache"}
    found = []
    for folder, dirs, files in os.walk(suite.work):
        rel = os.path.relpath(folder, suite.work)
        if rel.split(os.sep, maxsplit=1)[0] in ours:
            continue
        inside = any(os.path.abspath(folder).startswith(os.path.abspath(d) + os.sep) or
                     os.path.abspath(folder) == os.path.abspath(d) for d in dests)
        for name in files:
            if not inside and rel == "." and not name.endswith((".json", ".yml")):
                found.append(os.path.join(folder, name))
            elif not inside and rel != ".":
                found.append(os.path.join(folder, name))
    for top in (suite.out, os.path.dirname(suite.out), "/", "/tmp"):
        for name in os.listdir(top):
            if name.startswith("escaped"):
                found.append(os.path.join(top, name))
    return found


def rendered(out):
    hits = []
    for folder, _dirs, files in os.walk(out):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                if RENDERED_MATH.encode() in handle.read():
                    hits.append(path)
    return hits


def main(config_path, out):
    with open(config_path) as handle:
        config = json.load(handle)
    if not config.get("defender_emulator"):
        print("not on the emulator: a real tenant cannot be seeded with hostile data; skipped")
        return
    if os.path.exists(out):
        shutil.rmtree(out)
    suite = Suite(out)
    payloads = Payloads(suite.markers)
    seed, hostile, paths = hostile_seed(payloads)
    emulator = Emulator(suite.work, seed)
    suite.env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", **emulator.env(os.path.join(suite.work, "cache")))
    findings = []
    try:
        version = subprocess.run(["ansible", "--version"], capture_output=True, text=True, check=False).stdout
        print("hostile data on %s" % version.splitlines()[0])
        # 1. The inventory: --list, then a play on it using compose, keyed_groups and groups.
        inventory = os.path.join(suite.work, "hostile.defender.yml")
        with open(inventory, "w") as handle:
            json.dump({"plugin": "secops.defender.machines",
                       "compose": {"dev_label": "defender_name ~ '|' ~ (defender_tags | join(','))",
                                   "dev_rbac": "defender_rbac_group"},
                       "keyed_groups": [{"key": "defender_tags", "prefix": "kt"},
                                        {"key": "defender_name", "prefix": "kn"},
                                        {"key": "defender_rbac_group", "prefix": "kr"}],
                       "groups": {"named_hx": "'hx' in defender_name"}}, handle)
        suite.run("inventory-list", ["ansible-inventory", "-i", inventory, "--list", "--output",
                                     os.path.join(suite.work, "inventory-list.json")])
        suite.run("inventory-graph", ["ansible-inventory", "-i", inventory, "--graph"])
        suite.playbook("inventory-play", os.path.join(HERE, "files", "inventory_play.yml"), inventory=inventory)
        # 2. The lookup.
        suite.playbook("lookup-play", os.path.join(HERE, "files", "lookup_play.yml"))
        # 3. Every role, with the hostile devices, the path devices and hostile GetFile paths.
        roles_vars = suite.write_json("roles-vars.json", {
            "hostile_ids": hostile[:3], "offline_id": hostile[3], "path_ids": paths, "sha1": SHA1_QUARANTINE,
            "dest_forensics": os.path.join(suite.work, "dest-forensics"),
            "dest_direct": os.path.join(suite.work, "dest-direct"), "getfile_paths": PRINTABLE_PATHS,
            "control_paths": CONTROL_PATHS,
            "triage": TRIAGE})
        suite.playbook("roles-play", os.path.join(HERE, "files", "roles_play.yml"), "-e", "@" + roles_vars)
        # 4. The incident playbook: contain, quarantine, block (the indicator's text is hostile), collect, release.
        incident = suite.write_json("incident.json", {
            "incident_sha1": SHA1_QUARANTINE, "incident_machines": hostile[:2], "incident_contain": True,
            "incident_block": True, "incident_poll_interval": 1, "incident_ticket": "INC-HOSTILE",
            "incident_dest": os.path.join(suite.work, "dest-incident"), "incident_forensic_paths": [TRIAGE]})
        suite.run("incident-response", ["ansible-playbook", "-i", "localhost,", "secops.defender.incident_response",
                                        "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@" + incident])
        suite.run("incident-release", ["ansible-playbook", "-i", "localhost,", "secops.defender.incident_response",
                                       "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@" + incident,
                                       "-e", "incident_release=true"])
        # 5. The event source and remediate_alert by hand, with the event as extra vars.
        events = run_source(suite, emulator)
        suite.write_json("events.json", events)
        print("  the source delivered %d event(s)" % len(events))
        mine = [e for e in events if e.get("machine_id") == hostile[0]]
        if len(mine) != 1:
            findings.append("the source delivered %d events for device %s, not 1" % (len(mine), hostile[0]))
        else:
            if mine[0].get("sha1s") != [SHA1_A]:
                findings.append("the event's sha1s are %r, not [%s]" % (mine[0].get("sha1s"), SHA1_A))
            event = suite.write_json("event.json", {"ansible_eda": {"event": mine[0]}})
            suite.run("remediate-alert", ["ansible-playbook", "-i", "localhost,", "secops.defender.remediate_alert",
                                          "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@" + event,
                                          "-e", "remediate_poll_interval=1", "-e", "remediate_block=true"])
            findings += check_remediation(emulator, hostile[0], SHA1_A)
            suite.playbook("event-user-play", os.path.join(HERE, "files", "event_user_play.yml"), "-e", "@" + event)
        # 6. The shipped rulebook, with the real ansible-rulebook: both High alerts remediated.
        if shutil.which("java") and shutil.which("ansible-rulebook"):
            rulebook(suite)
            # alert A again (dedupe: still one quarantine), and alert B, which only the rulebook remediates
            findings += check_remediation(emulator, hostile[0], SHA1_A)
            findings += check_remediation(emulator, hostile[1], SHA1_B)
        else:
            print("  rulebook skipped: ansible-rulebook needs Java 17")
    finally:
        emulator.stop()
    markers = sorted(os.listdir(suite.markers))
    hits = rendered(out)
    escapes = escaped_files(suite, [os.path.join(suite.work, d) for d in ("dest-forensics", "dest-direct",
                                                                          "dest-incident")])
    findings += ["a payload ran: %s" % m for m in markers]
    findings += ["7*191 was rendered (%s) in %s" % (RENDERED_MATH, h) for h in hits]
    findings += ["a file outside dest: %r" % e for e in escapes]
    findings += suite.failures
    print("hostile data: %d marker(s), %d file(s) with %s, %d file(s) outside dest, %d failed step(s)"
          % (len(markers), len(hits), RENDERED_MATH, len(escapes), len(suite.failures)))
    for finding in findings:
        print("  FINDING: " + finding)
    if findings:
        sys.exit(1)
    print("no payload ran, nothing left dest, and the remediation happened")


if __name__ == "__main__":
    main(*sys.argv[1:])
