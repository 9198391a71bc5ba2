"""Run every example the collection shows against the emulator's default seed, a fresh tenant for each.

What runs: the EXAMPLES of every module, plugin and event source (found by walking plugins/ and extensions/, so
a module added later is covered), and the YAML blocks of the READMEs and the docs guides (snippets.py). Task lists
become one play each; an example's own plays run as written, on a host of their own. All of them run in ONE
ansible-playbook (one play per example, each on its own host, so one failing example does not stop the others);
a test-only callback resets the emulator before each example (callback_plugins/examples_outcome.py). Inventory
configs run through ansible-inventory.

fixtures.yml declares what an example needs that is not in the text (a registered variable, a list of devices,
an alert to work on, the host variables an inventory would give its host), and which examples are expected to fail or are not run here, each with the reason. An
example that fails without being declared fails this test; so does a declared failure that did not happen, and
a fixture entry that names no example.

  python tests/examples/run_examples.py                          # all; prints run/declared counts
  python tests/examples/run_examples.py --only modules/defender_alert
  python tests/examples/run_examples.py --without-device ws-fin-001.corp.example.com   # must fail
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from snippets import discover  # noqa: E402  (beside this file)

# Emulated time runs 10 times faster than real time, so an action the default seed takes 5 s for ends in 0.5 s; the
# seed and its data are the default's. Timeouts stay generous for a busy machine.
EMULATOR_SETTINGS = {"clock_speed": 10}
PLAYBOOK_TIMEOUT = 1800


def tool(name):
    """An ansible command from PATH, else the one beside this Python (a venv's bin)."""
    return shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)


def load_fixtures(path):
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    return data.get("vars") or {}, data.get("inventory") or {}, data.get("examples") or {}


def start_emulator(work, seed):
    """The emulator of this checkout (python -m mde_emulator from tests/), on free ports; returns (process, info)."""
    info_file = os.path.join(work, "info.json")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests"))
    log = open(os.path.join(work, "emulator.err"), "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mde_emulator", "--seed", seed, "--state-dir", os.path.join(work, "emulator"),
         "--info-file", info_file, "--env-file", os.path.join(work, "mde.env"),
         "--settings", json.dumps(EMULATOR_SETTINGS)],
        stdout=subprocess.DEVNULL, stderr=log, env=env)
    for dummy in range(600):
        if os.path.exists(info_file) and os.path.getsize(info_file):
            break
        if process.poll() is not None:
            break
        time.sleep(0.1)
    else:
        process.kill()
    if not (os.path.exists(info_file) and os.path.getsize(info_file)):
        with open(os.path.join(work, "emulator.err")) as handle:
            raise SystemExit("the emulator did not start:\n" + handle.read())
    with open(info_file) as handle:
        return process, json.load(handle)


def read_env_file(path):
    """mde-emulator's --env-file: NAME=value a line, a value single-quoted when a shell would misread it."""
    values = {}
    with open(path) as handle:
        for line in handle:
            name, dummy, value = line.rstrip("\n").partition("=")
            if value.startswith("'") and value.endswith("'"):
                value = value[1:-1].replace("'\\''", "'")
            values[name] = value
    return values


def control(info, method, path, body=None):
    request = urllib.request.Request(info["control_url"] + path, method=method, data=json.dumps(body or {}).encode(),
                                     headers={"X-Emulator-Key": info["control_key"],
                                              "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=info["ca_path"])
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        return json.load(answer)


def plays_of(snippet, host, variables, before=()):
    """The example as plays on its own host: runs of tasks become one play; its own plays keep what they say.
    `before`: the fixture's tasks that make what the example starts from (a registered result), run first."""
    plays, tasks = [], list(before)

    def flush():
        if tasks:
            plays.append({"name": "example %s" % snippet.name, "hosts": host, "gather_facts": False,
                          "vars": copy.deepcopy(variables), "tasks": list(tasks)})
            del tasks[:]
    for item in snippet.data:
        if "hosts" in item:
            flush()
            play = copy.deepcopy(item)
            play["hosts"] = host
            play["vars"] = dict(copy.deepcopy(variables), **(play.get("vars") or {}))
            plays.append(play)
        else:
            tasks.append(item)
    flush()
    return plays


def run_playbook(plays, name, work, play_dir, env, info, cache_dir, setup):
    """One ansible-playbook over these plays; {host: outcome} of the examples that ran."""
    outcome_file = os.path.join(work, name + ".outcome.json")
    with open(os.path.join(play_dir, name + ".yml"), "w") as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, width=200)
    with open(env["EXAMPLES_RUN"], "w") as handle:
        json.dump({"control_url": info["control_url"], "control_key": info["control_key"], "ca_path": info["ca_path"],
                   "cache_dir": cache_dir, "setup": setup, "outcome": outcome_file}, handle)
    log_file = os.path.join(work, name + ".log")
    with open(log_file, "w") as log:
        code = subprocess.call([tool("ansible-playbook"), "-i", os.path.join(work, "inventory.yml"), name + ".yml"],
                               cwd=play_dir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=PLAYBOOK_TIMEOUT)
    outcome = {}
    if os.path.exists(outcome_file):
        with open(outcome_file) as handle:
            outcome = json.load(handle)
    if code not in (0, 2) or not outcome:
        with open(log_file) as handle:
            print("ansible-playbook rc %d (%s):\n%s" % (code, log_file, handle.read()[-6000:]))
    return outcome


def syntax_errors(plays, hosts, work, play_dir, env):
    """{host: error} of the examples ansible-playbook cannot load; each is tried alone only if all together fail."""
    def check(subset, name):
        path = os.path.join(play_dir, name)
        with open(path, "w") as handle:
            yaml.safe_dump(subset, handle, sort_keys=False, width=200)
        answer = subprocess.run([tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", name], cwd=play_dir,
                                env=env, text=True, capture_output=True, timeout=600, check=False)
        return "" if answer.returncode == 0 else (answer.stderr or answer.stdout).strip()[-1500:]
    if not check(plays, "syntax.yml"):
        return {}
    broken = {}
    for host in hosts:
        error = check([p for p in plays if p["hosts"] == host], "syntax-%s.yml" % host)
        if error:
            broken[host] = error
    return broken


def judge(name, declared, failures, ran):
    """'' when the example did what fixtures.yml says it does, else why not."""
    expected = declared.get("fails")
    if not ran:
        return "did not run (ansible-playbook stopped before it: its output is printed above)"
    if expected:
        hits = [f for f in failures if expected.get("task", f["task"]) == f["task"]
                and expected.get("msg", "") in f["msg"]]
        if not hits:
            return "was declared to fail at %r with %r, but %s" % (
                expected.get("task"), expected.get("msg"),
                "failed otherwise: %s" % failures if failures else "it passed")
        return ""
    if failures:
        return "; ".join("task %r failed: %s" % (f["task"], f["msg"]) for f in failures)
    return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", help="the collection laid out by tests/utils/layout.sh (default: lay it out)")
    parser.add_argument("--seed", default="default", help="emulator seed (default: the default seed)")
    parser.add_argument("--without-device", action="append", default=[],
                        help="drop this device from the seed (to see the test fail without it)")
    parser.add_argument("--only", action="append", default=[], help="run only examples whose name starts with this")
    parser.add_argument("--fixtures", default=os.path.join(HERE, "fixtures.yml"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder and say where it is")
    args = parser.parse_args(argv)

    variables, inventory_groups, declared = load_fixtures(args.fixtures)
    snippets = discover(ROOT)
    names = {s.name for s in snippets}
    stale = sorted(set(declared) - names)
    if stale:
        raise SystemExit("fixtures.yml names examples that do not exist (any more): %s" % ", ".join(stale))
    chosen = [s for s in snippets if not args.only or any(s.name.startswith(o) for o in args.only)]

    work = tempfile.mkdtemp(prefix="secops-examples-")
    play_dir = os.path.join(work, "play")
    shutil.copytree(os.path.join(HERE, "files"), os.path.join(play_dir, "files"))
    coll = args.collection or subprocess.check_output(
        ["bash", os.path.join(ROOT, "tests/utils/layout.sh")], text=True,
        env=dict(os.environ, SECOPS_BUILD_DIR=os.path.join(work, "build"))).strip()
    seed = args.seed
    if args.without_device:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from mde_emulator.seeding import load_seed
        data = load_seed(seed)
        gone = [m for m in data["machines"] if m.get("computerDnsName") in args.without_device]
        data["machines"] = [m for m in data["machines"] if m not in gone]
        keys = {m.get("computerDnsName") for m in gone} | {m.get("id") for m in gone}
        for table, rows in (data.get("events") or {}).items():   # its hunting events go with it
            data["events"][table] = [r for r in rows if r.get("DeviceName") not in keys and r.get("DeviceId") not in keys]
        seed = os.path.join(work, "seed.json")
        with open(seed, "w") as handle:
            json.dump(data, handle)
    process, info = start_emulator(work, seed)
    try:
        return run(args, chosen, declared, variables, inventory_groups, coll, work, play_dir, info)
    finally:
        process.terminate()
        process.wait(10)
        if args.keep:
            print("work folder: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, chosen, declared, variables, inventory_groups, coll, work, play_dir, info):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEFENDER_", "AZURE_", "ANSIBLE_"))}
    env.update(read_env_file(os.path.join(work, "mde.env")))
    cache_dir = env["DEFENDER_TOKEN_CACHE_DIR"] = os.path.join(work, "cache")
    env.update({
        "HOME": os.path.join(work, "home"),   # ~/.cache and ~/.ansible of the examples stay in the work folder
        "ANSIBLE_COLLECTIONS_PATH": os.path.dirname(os.path.dirname(os.path.dirname(coll))),
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "examples_outcome",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "EXAMPLES_RUN": os.path.join(work, "run.json"),
    })
    os.makedirs(env["HOME"])

    rows, plays, setup, hosts, host_vars = [], [], {}, {}, {}
    inventory_snippets = []
    for number, snippet in enumerate(chosen, 1):
        entry = declared.get(snippet.name) or {}
        if entry.get("skip"):
            rows.append((snippet, "declared", "not run: %s" % entry["skip"]))
            continue
        if snippet.kind == "inventory":
            inventory_snippets.append((snippet, entry))
            continue
        if snippet.kind != "play":
            rows.append((snippet, "FAILED", "a %s, neither plays nor tasks nor an inventory: declare it" % snippet.kind))
            continue
        host = "example_%03d" % number
        hosts[host] = snippet
        host_vars[host] = entry.get("host_vars") or {}
        setup[host] = entry.get("setup") or []
        plays.extend(plays_of(snippet, host, dict(variables, **(entry.get("vars") or {})), entry.get("before") or []))

    outcome = {}
    while plays:
        broken = syntax_errors(plays, hosts, work, play_dir, env)
        for host, error in broken.items():
            rows.append((hosts.pop(host), "FAILED", "ansible-playbook refuses it: %s" % error))
        plays = [p for p in plays if p["hosts"] not in broken]
        break
    if plays:
        inventory = {"all": {"hosts": {h: dict(host_vars.get(h) or {}, ansible_connection="local",
                                               ansible_python_interpreter=sys.executable) for h in hosts},
                             "children": inventory_groups}}
        with open(os.path.join(work, "inventory.yml"), "w") as handle:
            yaml.safe_dump(inventory, handle)
        started, runs, remaining = time.monotonic(), 0, plays
        # ansible-playbook ends the whole run once every host of a play has failed, and a play here has one host:
        # after a failing example, it starts again with the next one.
        while remaining:
            runs += 1
            ran = run_playbook(remaining, "examples-%d" % runs, work, play_dir, env, info, cache_dir, setup)
            if not ran:
                break
            outcome.update(ran)
            remaining = [p for p in remaining if p["hosts"] not in outcome]
        print("ansible-playbook: %d plays for %d examples in %d run(s), %.0f s"
              % (len(plays), len(hosts), runs, time.monotonic() - started))
    for host, snippet in hosts.items():
        entry = declared.get(snippet.name) or {}
        row = outcome.get(host)
        why = judge(snippet.name, entry, row["failures"] if row else [], bool(row and row.get("plays")))
        if why:
            rows.append((snippet, "FAILED", why))
        elif entry.get("fails"):
            rows.append((snippet, "declared", "failed as declared: %s" % entry.get("reason", "")))
        else:
            rows.append((snippet, "ok", "%d task(s) ok in %s s" % (row["ok"], row.get("seconds"))))

    for snippet, entry in inventory_snippets:
        control(info, "POST", "/reset")
        path = os.path.join(play_dir, "%s.defender.yml" % len(rows))
        with open(path, "w") as handle:
            handle.write(snippet.text)
        answer = subprocess.run([tool("ansible-inventory"), "-i", path, "--list"], cwd=play_dir, env=env, text=True,
                                capture_output=True, timeout=300, check=False)
        listed = json.loads(answer.stdout or "{}").get("_meta", {}).get("hostvars", {})
        if answer.returncode or not listed or "[WARNING]" in answer.stderr:
            rows.append((snippet, "FAILED", "ansible-inventory rc %d, %d host(s): %s"
                         % (answer.returncode, len(listed), answer.stderr.strip()[-1500:])))
        else:
            rows.append((snippet, "ok", "%d host(s) listed" % len(listed)))

    failed = [r for r in rows if r[1] == "FAILED"]
    for snippet, verdict, why in sorted(rows, key=lambda r: (r[1] != "FAILED", r[0].name)):
        print("%-8s %s (%s:%d): %s" % (verdict, snippet.name, snippet.source, snippet.line, why))
    print("examples: %d found, %d run and passed, %d declared (expected to fail or not run here), %d failed"
          % (len(rows), sum(1 for r in rows if r[1] == "ok"), sum(1 for r in rows if r[1] == "declared"),
             len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
