"""The fleet engine against the emulator over real HTTPS: bulk resolution, one look-up for the fleet, list polls,
per-device rows, submit locks across tasks, and POSTs whose outcome is unknown."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _quarantine
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine, FleetRequest, run_action
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client

from .conftest import SHA1, WS1

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
LINUX = "3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
OFFLINE = "4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


def fleet(client, machines, check_mode=False, locks=None, **kwargs):
    kwargs.setdefault("wait", False)
    kwargs.setdefault("poll_interval", 5)
    return run_action(client, _quarantine.SPEC, _quarantine.options(SHA1, "fleet"), target_list(machines=machines),
                      single=False, check_mode=check_mode, locks=locks, **kwargs)


def seed_fleet(control, count):
    machines = [{"id": "%040x" % (0xabc000 + i), "computerDnsName": "fleet-%03d.corp.example.com" % i,
                 "osPlatform": "Windows11"} for i in range(count)]
    control("POST", "/seed", {"machines": machines})
    return machines


def test_a_fleet_costs_one_look_up_one_post_per_device_and_list_polls(client, control, fast):
    machines = seed_fleet(control, 30)
    ids = [m["id"] for m in machines[:25]]
    names = [m["computerDnsName"].split(".")[0] for m in machines[25:]]   # short names
    result = fleet(client, ids + names, wait=True)
    assert result["summary"] == {"devices": 30, "submitted": 30, "already_done": 0, "would_submit": 0, "failed": 0}
    assert [r["status"] for r in result["results"]] == ["Succeeded"] * 30
    assert [r["machine"] for r in result["results"]] == ids + names
    calls = control.api_calls()
    posts = [c for c in calls if c["method"] == "POST"]
    assert len(posts) == 30 and len(set(p["path"] for p in posts)) == 30
    gets = [c for c in calls if c["method"] == "GET"]
    # one names query, one equal-action query, and list polls (never a GET per device or per action). A poll with
    # one action left open reads that one by id, and which one is left last depends on the machine's speed: so
    # at most one action is ever read on its own.
    assert len([g for g in gets if g["path"] == "/api/machines"]) == 1
    assert not [g for g in gets if g["path"].startswith("/api/machines/")]
    assert len(set(g["path"] for g in gets if g["path"].startswith("/api/machineactions/"))) <= 1
    assert len(calls) <= 30 * 1.2
    state = control("GET", "/state")["actions"]
    assert len(state) == 30 and all(a["status"] == "Succeeded" for a in state)


def test_again_is_idempotent_and_check_mode_posts_nothing(client, control, fast):
    machines = [m["id"] for m in seed_fleet(control, 5)]
    dry = fleet(client, machines, check_mode=True)
    assert dry["changed"] is True and dry["summary"]["would_submit"] == 5
    assert control.api_calls("POST") == []
    real = fleet(client, machines)
    again = fleet(client, machines + [machines[0].upper()])
    assert again["changed"] is False and again["summary"]["already_done"] == 5
    assert [r["action_id"] for r in again["results"]] == [r["action_id"] for r in real["results"]]
    assert len(control.api_calls("POST")) == 5


def test_one_device_failing_does_not_stop_the_others(client, control, fast):
    with pytest.raises(DefenderActionError) as info:
        fleet(client, [WS1, LINUX, "nope.corp.example.com", WS2], wait=True)
    result = info.value.result
    assert result["failed_machines"] == [LINUX, "nope.corp.example.com"]
    assert "2 of 4 device(s) failed" in str(info.value) and "OsPlatformNotSupported" in str(info.value)
    linux = result["results"][1]
    assert linux["error"]["code"] == "OsPlatformNotSupported" and linux["error"]["correlation_id"]
    assert [r["status"] for r in result["results"]] == ["Succeeded", None, None, "Succeeded"]
    relaxed = fleet(client, [WS1, LINUX], fail_on_device_error=False)
    assert relaxed["failed_machines"] == [LINUX] and relaxed["results"][0]["changed"] is False


def test_a_task_that_looked_before_another_submitted_finds_its_action_in_the_journal(client, control, tmp_path,
                                                                                     monkeypatch):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    first = FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "a"),
                        FleetRequest(target_list(machine_id=WS1), wait=False, locks=locks))
    second = FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "b"),
                         FleetRequest(target_list(machine_id=WS1), wait_timeout=60, poll_interval=5, locks=locks))
    # The second task looks first and finds nothing, then the first one submits, then the second one goes on.
    second_rows = second._resolve(second.request.targets)
    assert second._find_equal(second_rows) == {}
    first.run()
    second._submit_one(second_rows[0])
    assert second_rows[0].changed is False and "another task" in second_rows[0].msg
    assert len(control.api_calls("POST")) == 1
    assert len(control("GET", "/state")["actions"]) == 1


def test_a_post_answered_after_the_client_gave_up_is_found_not_repeated(emulator, control, params):
    # Answered 2 s after the client gave up, inside the 10 s it looks; 5 s lets a busy machine answer each look-up.
    client = build_client(dict(params, timeout=5))
    control("POST", "/faults", {"kind": "hang", "delay": 7, "method": "POST", "path": "StopAndQuarantineFile"})
    result = fleet(client, [WS1])
    actions = control("GET", "/state")["actions"]
    assert len(actions) == 1 and result["results"][0]["action_id"] == actions[0]["id"]
    posts = control.api_calls("POST")
    assert len(posts) == 1
    lookups = [c for c in control.api_calls("GET", "/api/machineactions") if "machineId" in str(c.get("query"))]
    # Found by looking, not by posting again. How many look-ups found nothing first depends on the machine's speed
    # (a busy one may send its first after the hang is over), so the test checks only that it looked.
    assert lookups


def test_busy_devices_fail_by_name_or_wait(client, control, fast):
    control("POST", "/seed", {"machines": [{"id": "%040x" % 0xbee, "computerDnsName": "busy.corp.example.com"}]})
    busy = "%040x" % 0xbee
    running = client.post("/api/machines/%s/isolate" % busy, {"Comment": "x", "IsolationType": "Full"})
    spec = _quarantine.SPEC.__class__("Isolate", "isolate", "Machine.Isolate",
                                      body=lambda o: {"Comment": "c", "IsolationType": "Full"},
                                      busy_types=("Isolate", "Unisolate"), dedupe=False)
    with pytest.raises(DefenderActionError) as info:
        run_action(client, spec, {}, target_list(machines=[busy]), single=False, wait=False)
    row = info.value.result["results"][0]
    assert running["id"] in row["msg"] and "on_active_action=wait" in row["msg"]
    waited = run_action(client, spec, {}, target_list(machines=[busy]), single=False, on_active_action="wait",
                        poll_interval=5, wait_timeout=600)
    assert waited["results"][0]["status"] == "Succeeded" and waited["results"][0]["action_id"] != running["id"]


def test_live_response_fleet_downloads_each_device_as_it_ends(client, control, fast, tmp_path):
    from ansible_collections.secops.defender.plugins.module_utils._live_response import live_response
    machines = [m["id"] for m in seed_fleet(control, 4)]
    control("POST", "/seed", {"machines": [{"id": m, "computerDnsName": "fleet-%03d.corp.example.com" % i,
                                            "files": {"C:\\t.txt": {"size": 64}}} for i, m in enumerate(machines)]})
    result = live_response(client, [{"type": "RunScript", "script_name": "collect_triage.ps1"},
                                    {"type": "GetFile", "path": "C:\\t.txt"}], "lr",
                           target_list(machines=machines), dest=str(tmp_path / "ev"), action_subdir=True,
                           manifest=True, max_sessions=2, single=False, poll_interval=5)
    assert result["summary"]["submitted"] == 4 and not result["failed_machines"]
    for row in result["results"]:
        assert row["files"], row
        assert row["files"][0]["size"] == 64 and row["commands"][0]["exit_code"] == 0
        folder = "%s-%s" % (row["machine_name"], row["machine_id"][:12])  # the device id keeps folders apart
        assert row["evidence_dir"] == str(tmp_path / "ev" / folder / row["action_id"])
        assert row["manifest"].endswith("/manifest.json")
    # never more than max_sessions at once: sessions overlap pairwise at most
    state = control("GET", "/state")
    assert len([a for a in state["actions"] if a["type"] == "LiveResponse"]) == 4


@pytest.mark.parametrize("machines", [[WS1], [WS1, WS2]])
def test_a_200_with_an_error_body_is_an_unknown_outcome_looked_up_then_sent_once_more(
        client, control, fast, machines):
    """A POST answered 200 {"error": {...}} instead of a MachineAction: not a crash ("KeyError: 'id'"), not a
    blind resend; the action is looked for, and only when the look-up proves it was not made is it sent again."""
    control("POST", "/faults", {"kind": "status", "status": 200, "path": "stopandquarantinefile", "count": 1})
    control("DELETE", "/log")
    result = fleet(client, machines)
    assert [r["failed"] for r in result["results"]] == [False] * len(machines), result
    posts = control.api_calls("POST", "StopAndQuarantineFile")
    assert [p["status"] for p in posts] == [200] + [201] * len(machines)   # the error body, then one per device
    made = [a for a in control("GET", "/state")["actions"] if a["type"] == "StopAndQuarantineFile"
            and (a.get("relatedFileInfo") or {}).get("fileIdentifier") == SHA1]
    assert sorted(a["machineId"] for a in made) == sorted(machines)
    first_post = control.log().index(posts[0])
    looked = [e for e in control.log()[first_post:] if e["method"] == "GET" and "/api/machineactions" in e["path"]]
    assert looked, "the action was looked for before it was sent again"


def test_a_200_with_an_error_body_on_a_read_is_retried(client, control, fast):
    client._sleep = lambda delay: None
    control("POST", "/faults", {"kind": "status", "status": 200, "path": "/api/machines$", "count": 1})
    control("DELETE", "/log")
    assert client.get("/api/machines")["value"]
    assert [c["status"] for c in control.api_calls("GET", "/api/machines")][:2] == [200, 200]


def test_after_a_1000_device_quarantine_no_lock_outlives_its_journal(params, control, tmp_path):
    import os
    import time
    from ansible_collections.secops.defender.plugins.module_utils._locks import JOURNAL_LIFETIME
    # Limits as high as the test needs: what is under test is the lock folder, not the pacing.
    control("POST", "/settings", {"rate_limits": {"default": [[100000, 60]]}})
    client = build_client(dict(params, rate_limits={"default": [[100000, 60]]}))
    folder = str(tmp_path / "state")
    locks = SubmitLocks(folder, "scope")
    # An earlier quarantine of another file, a day and more ago, left 1000 lock files behind.
    earlier = [m["id"] for m in seed_fleet(control, 1000)]
    old = time.time() - JOURNAL_LIFETIME - 60
    for machine_id in earlier:
        with locks.hold(machine_id, "StopAndQuarantineFile", "0" * 40):
            pass
    for name in os.listdir(locks.directory):
        os.utime(os.path.join(locks.directory, name), (old, old))
    result = fleet(client, earlier, locks=locks)
    assert result["summary"]["submitted"] == 1000 and len(control.api_calls("POST")) == 1000
    now = time.time()
    ages = [now - os.stat(os.path.join(locks.directory, n)).st_mtime for n in os.listdir(locks.directory)]
    assert len(ages) == 1000                                # this run's own locks, one per device
    assert max(ages) < JOURNAL_LIFETIME                     # and none of the earlier run's


def test_a_lock_file_pruned_while_someone_waits_for_it_is_locked_anew(tmp_path):
    import os
    import threading
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    path = locks._path(WS1, "Isolate", "Full")
    entered, release, second = threading.Event(), threading.Event(), []

    def hold_first():
        with locks.hold(WS1, "Isolate", "Full"):
            entered.set()
            release.wait(10)

    def hold_second():
        with locks.hold(WS1, "Isolate", "Full") as journal:
            second.append(os.fstat(journal._fd).st_ino == os.stat(path).st_ino)

    first = threading.Thread(target=hold_first)
    first.start()
    entered.wait(10)
    assert locks.prune(lifetime=-1) == 0                    # held: never removed under its holder
    waiter = threading.Thread(target=hold_second)
    waiter.start()
    release.set()
    first.join(10)
    waiter.join(10)
    assert second == [True]                                 # the second holder holds the file the path names
    assert locks.prune(lifetime=-1) == 1 and not os.path.exists(path)


def test_a_post_whose_outcome_stays_unknown_is_sent_again_until_made_never_twice(client, control, fast):
    # Three answers lost in a row (the API failed before acting: 500 on the POST), each proved by a look-up to have
    # made nothing; the fourth send makes the action. Two sends gave up on such a device before.
    control("POST", "/faults", {"kind": "status", "status": 500, "method": "POST", "path": "StopAndQuarantineFile",
                                "count": 3})
    result = fleet(client, [WS1])
    actions = control("GET", "/state")["actions"]
    assert len(actions) == 1 and result["results"][0]["action_id"] == actions[0]["id"]
    assert [c["status"] for c in control.api_calls("POST")] == [500, 500, 500, 201]
    assert result["summary"]["submitted"] == 1


def test_a_device_listed_twice_is_named_in_its_row(client, control):
    """The second listing fails (acted on once), and its row names the device, so summaries show a name."""
    result = fleet(client, ["ws-fin-001.corp.example.com", WS1], check_mode=True, fail_on_device_error=False)
    twice = result["results"][1]
    assert twice["failed"] and "is the same device as ws-fin-001.corp.example.com" in twice["msg"]
    assert twice["machine_name"] == "ws-fin-001.corp.example.com"
