"""Run secops.defender.incident_response the way AWX runs a job, against the emulator, and check what it did.

AWX renders the job's credential into environment variables and files, writes a private data directory
(env/envvars, env/extravars, inventory/hosts, project/) and hands it to ansible-runner. This does the same with
the collection's own credential type (docs/awx/credential_type.yml), then checks the run's artifacts (status,
events, no secret in any of them) and the emulator's state and request log (one quarantine per device, a live
response session per device, evidence on disk). The job runs as AWX runs one with no incident_dest: with awx_job_id
set, so the playbook warns that the evidence folder is in the job's container, and with incident_archive_path on a
"volume" outside it: the archive there, its SHA-256 in the job's artifact (set_stats), and every file of every
manifest in the archive with the hash the manifest lists.

Usage: awx_job.py COLLECTIONS_PATH WORK_DIR (the collection installed under COLLECTIONS_PATH)."""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from urllib.parse import urlsplit

import requests
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHA1 = "e3b9c1a4f5d6e7f8091a2b3c4d5e6f7a8b9c0d1e"
MACHINES = ["ws-fin-001.corp.contoso.com", "ws-fin-002.corp.contoso.com", "ws-hr-003.corp.contoso.com"]


def load_credential_type():
    with open(os.path.join(ROOT, "docs", "awx", "credential_type.yml")) as handle:
        return yaml.safe_load(handle)


def inject(inputs, files_dir):
    """The credential type's injectors, rendered as AWX renders them: Jinja in a sandbox, blank fields as "",
    fields with a default given it, each file template written to a private file. Returns the environment."""
    credential_type = load_credential_type()
    namespace = dict((f["id"], inputs.get(f["id"], f.get("default", ""))) for f in credential_type["inputs"]["fields"])
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    filenames = {}
    for key, template in credential_type["injectors"]["file"].items():
        name = key.split(".", 1)[1]
        path = os.path.join(files_dir, "awx_" + name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        filenames[name] = path
    namespace["tower"] = {"filename": filenames}
    return dict((var, sandbox.from_string(template).render(**namespace))
                for var, template in credential_type["injectors"]["env"].items())


def start_emulator(work):
    info_path = os.path.join(work, "emulator", "info.json")
    os.makedirs(os.path.dirname(info_path))
    log = open(os.path.join(work, "emulator.log"), "w")
    process = subprocess.Popen(["mde-emulator", "--seed", "demo", "--state-dir", os.path.dirname(info_path),
                                "--info-file", info_path], stdout=subprocess.DEVNULL, stderr=log)
    for _attempt in range(100):
        if os.path.exists(info_path) and os.path.getsize(info_path):
            with open(info_path) as handle:
                return process, json.load(handle)
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the emulator did not start; see %s" % log.name)


def write_private_data_dir(pdd, env, extravars):
    for sub in ("env", "inventory", "project"):
        os.makedirs(os.path.join(pdd, sub))
    with open(os.path.join(pdd, "env", "envvars"), "w") as handle:
        yaml.safe_dump(env, handle)
    with open(os.path.join(pdd, "env", "extravars"), "w") as handle:
        yaml.safe_dump(extravars, handle)
    with open(os.path.join(pdd, "inventory", "hosts"), "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    with open(os.path.join(pdd, "project", "run.yml"), "w") as handle:
        handle.write("---\n- name: The incident response job\n"
                     "  ansible.builtin.import_playbook: secops.defender.incident_response\n")


def control(info, path):
    response = requests.get(info["control_url"] + path, headers={"X-Emulator-Key": info["control_key"]},
                            verify=info["ca_path"], timeout=30)
    response.raise_for_status()
    return response.json()


def check_archive(record, volume):
    """The archive the job's artifact names: on the volume, with the SHA-256 and size the record says, holding the
    summary and every device's manifest, each file in it with the hash its manifest lists."""
    problems = []
    archive = record.get("archive") or ""
    if os.path.dirname(archive) != volume or not os.path.isfile(archive):
        return ["the artifact names the archive %r, expected a file in %s" % (archive, volume)]
    with open(archive, "rb") as handle:
        data = handle.read()
    if record.get("archive_sha256") != hashlib.sha256(data).hexdigest() or record.get("archive_bytes") != len(data):
        problems.append("the artifact says SHA-256 %s and %s bytes; the archive has %s and %d"
                        % (record.get("archive_sha256"), record.get("archive_bytes"),
                           hashlib.sha256(data).hexdigest(), len(data)))
    top = os.path.basename(record["dest"])
    with tarfile.open(archive) as tar:
        members = dict((m.name, m) for m in tar.getmembers() if m.isfile())
        if [n for n in members if not n.startswith(top + "/")]:
            problems.append("the archive holds files outside %s/: %s" % (top, sorted(members)))
        for name in ("summary.json", "summary.txt"):
            if "%s/%s" % (top, name) not in members:
                problems.append("the archive has no %s" % name)
        manifests = [n for n in members if os.path.basename(n) == "manifest.json"]
        if len(manifests) != len(MACHINES):
            problems.append("the archive has %d manifests, expected %d" % (len(manifests), len(MACHINES)))
        for manifest in manifests:
            files = json.load(tar.extractfile(members[manifest])).get("files") or []
            if not files:
                problems.append("%s lists no file" % manifest)
            for entry in files:
                member = members.get(os.path.join(os.path.dirname(manifest), entry["name"]))
                got = hashlib.sha256(tar.extractfile(member).read()).hexdigest() if member else None
                if got != entry["sha256"]:
                    problems.append("%s lists %s with SHA-256 %s; the archive's copy has %s"
                                    % (manifest, entry["name"], entry["sha256"], got))
    return problems


def check(pdd, info, secret, token_cache, volume):
    problems = []
    artifacts = os.path.join(pdd, "artifacts")
    ident = os.listdir(artifacts)[0]
    with open(os.path.join(artifacts, ident, "status")) as handle:
        status = handle.read().strip()
    if status != "successful":
        problems.append("ansible-runner status is %s" % status)
    events = []
    for name in sorted(os.listdir(os.path.join(artifacts, ident, "job_events"))):
        with open(os.path.join(artifacts, ident, "job_events", name)) as handle:
            events.append(json.load(handle))
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    if not stats or stats[-1]["event_data"].get("failures"):
        problems.append("the play did not end cleanly: %s" % (stats[-1]["event_data"] if stats else "no stats"))
    # The evidence record (set_stats), which AWX keeps with the job: ids and hashes, never a device name.
    record = (stats[-1]["event_data"].get("artifact_data") or {}).get("incident_evidence") if stats else None
    if not record:
        return status, len(events), problems + ["the job published no incident_evidence artifact"]
    if record.get("devices") != len(MACHINES) or record.get("failed") != 0 or record.get("failed_machine_ids") != []:
        problems.append("the evidence record counts %s" % record)
    names = [m.split(".", maxsplit=1)[0] for m in MACHINES]
    if [n for n in names if n in json.dumps(record)]:
        problems.append("the evidence record holds a device name: %s" % record)
    problems.extend(check_archive(record, volume))
    warned = [e for e in events if e.get("event") == "runner_on_ok"
              and "inside the job's container" in json.dumps(e["event_data"].get("res", {}).get("msg", ""))]
    if not warned:
        problems.append("no warning that the evidence folder is in the job's container")
    dest = record["dest"]
    tasks = set(e["event_data"].get("task") for e in events if e.get("event") == "runner_on_ok")
    for task in ("Quarantine the file on every device", "Collect forensic evidence from every device"):
        if not [t for t in tasks if t and task in t] and task not in json.dumps(sorted(t for t in tasks if t)):
            problems.append("no successful event for %r" % task)
    # What AWX shows (stdout, events) and the rest of the artifacts hold no secret and no token. ansible-runner's
    # own record of the command, artifacts/<ident>/command, repeats env/envvars and so the credential: the private
    # data directory is as secret as the credential (AWX deletes it after the job).
    with open(os.path.join(token_cache, "tokens.json")) as handle:
        tokens = [entry["access_token"] for entry in json.load(handle).values()]
    secrets_seen = set()
    for base, _dirs, files in os.walk(artifacts):
        for name in files:
            with open(os.path.join(base, name), errors="replace") as handle:
                text = handle.read()
            for label, value in [("client secret", secret)] + [("access token", t) for t in tokens]:
                if value in text:
                    secrets_seen.add((label, os.path.relpath(os.path.join(base, name), artifacts)))
    leaks = sorted(s for s in secrets_seen if os.path.basename(s[1]) != "command")
    problems.extend("the %s is in %s" % leak for leak in leaks)

    state = control(info, "/state")
    ids = dict((m["computerDnsName"], m["id"]) for m in state["machines"])
    for machine in MACHINES:
        quarantines = [a for a in state["actions"] if a["machineId"] == ids[machine]
                       and a["type"] == "StopAndQuarantineFile"
                       and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
        sessions = [a for a in state["actions"] if a["machineId"] == ids[machine] and a["type"] == "LiveResponse"]
        if len(quarantines) != 1 or quarantines[0]["status"] != "Succeeded":
            problems.append("%s: %d quarantine actions, expected one that succeeded" % (machine, len(quarantines)))
        if len(sessions) != 1 or sessions[0]["status"] != "Succeeded":
            problems.append("%s: %d live response sessions, expected one that succeeded" % (machine, len(sessions)))
    others = [a for a in state["actions"] if a["machineId"] not in [ids[m] for m in MACHINES]]
    if others:
        problems.append("actions on devices the job did not name: %s" % others)
    auth_headers = [e for e in control(info, "/log")["value"] if e["host"] == "blob" and e.get("authorization")]
    if auth_headers:
        problems.append("the bearer token went to the download host")
    with open(os.path.join(dest, "summary.json")) as handle:
        summary = json.load(handle)
    if len(summary["machines"]) != len(MACHINES) or summary["sha1"] != SHA1:
        problems.append("summary.json has %d devices, expected %d" % (len(summary["machines"]), len(MACHINES)))
    return status, len(events), problems


def main(collections_path, work):
    os.makedirs(work)
    process, info = start_emulator(work)
    try:
        app = info["apps"][0]
        with open(info["ca_path"]) as handle:
            ca_bundle = handle.read()
        files_dir = os.path.join(work, "credential-files")
        os.makedirs(files_dir, 0o700)
        env = inject({"tenant_id": info["tenant_id"], "client_id": app["client_id"],
                      "client_secret": app["client_secret"], "api_url": info["api_url"],
                      "authority_url": info["authority_url"], "ca_bundle": ca_bundle}, files_dir)
        token_cache = os.path.join(work, "token-cache")
        env.update({"ANSIBLE_COLLECTIONS_PATH": collections_path, "DEFENDER_TOKEN_CACHE_DIR": token_cache,
                    # the emulator's storage host, where result links point (download_hosts)
                    "DEFENDER_DOWNLOAD_HOSTS": urlsplit(info["blob_url"]).hostname})
        # No incident_dest, as a job template that forgot it: the evidence folder is in the job's project folder
        # (the container, in AWX); the archive goes to a "volume".
        volume = os.path.join(work, "volume")
        os.makedirs(volume)
        extravars = {"incident_ticket": "INC-AWX-1", "incident_sha1": SHA1, "incident_machines": MACHINES,
                     "incident_poll_interval": 1, "awx_job_id": 4711, "incident_archive": True,
                     "incident_archive_path": os.path.join(volume, "INC-AWX-1.tar.gz"),
                     "incident_forensic_paths": ["C:\\Windows\\Temp\\secops-triage.zip"]}
        pdd = os.path.join(work, "job")
        write_private_data_dir(pdd, env, extravars)
        started = time.time()
        run = subprocess.run(["ansible-runner", "run", pdd, "--playbook", "run.yml"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        elapsed = time.time() - started
        status, events, problems = check(pdd, info, app["client_secret"], token_cache, volume)
        if run.returncode != 0:
            problems.insert(0, "ansible-runner exited %d" % run.returncode)
        if problems:
            print(run.stdout[-6000:])
            for problem in problems:
                print("FAIL: %s" % problem)
            return 1
        print("ansible-runner job: %s, %d events, %d devices quarantined and collected, the evidence archive's "
              "SHA-256 in the job's artifact, no secret in the artifacts, %.0f s"
              % (status, events, len(MACHINES), elapsed))
        return 0
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])))
