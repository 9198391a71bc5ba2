"""One-device tasks of one controller sharing their equal-action look-up and their polls (_coalesce.py), against
the emulator over real HTTPS. The rule under test: a task only ever uses a query sent after it asked for one, so it
never sees a state older than its own start; sequential tasks never share at all."""

import os
import threading
import time

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _coalesce, _quarantine
from ansible_collections.secops.defender.plugins.module_utils._coalesce import Gathering, NotShared, folder_of
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine, FleetRequest, run_action
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

from .conftest import SHA1


def machines(control, count):
    seeded = [{"id": "%040x" % (0xc0a1e5c000 + i), "computerDnsName": "host-%03d.corp.example.com" % i,
               "osPlatform": "Windows11"} for i in range(count)]
    control("POST", "/seed", {"machines": seeded})
    return [m["id"] for m in seeded]


def host_task(client, locks, machine_id, spec_options=None, **settings):
    """What one host's task of a per-host play runs: one device, the controller's submit locks."""
    spec, options = spec_options or (_quarantine.SPEC, _quarantine.options(SHA1, "per host"))
    settings.setdefault("wait", False)
    settings.setdefault("poll_interval", 5)
    return run_action(client, spec, options, target_list(machine_id=machine_id), locks=locks, **settings)


def lookups(control):
    return [c for c in control.api_calls("GET") if c["path"] == "/api/machineactions"]


def together(count, task):
    """Run task(i) in `count` threads started at the same moment; their results in order."""
    start = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        start.wait()
        try:
            results[i] = task(i)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def test_tasks_asking_together_share_look_ups_sent_after_each_asked(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 8)
    control("DELETE", "/log")
    engines = [FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "together"),
                           FleetRequest(target_list(machine_id=m), wait=False, locks=locks)) for m in ids]

    def task(i):
        asked = time.time()
        rows = engines[i].run()
        return asked, rows

    results = together(len(ids), task)
    for engine, (asked, rows) in zip(engines, results):
        assert rows[0].changed is True and rows[0].action["machineId"] == engine.request.targets[0][0]
        assert engine.query_started >= asked          # its look-up left after it asked
    assert len(lookups(control)) < len(ids), lookups(control)
    assert "member" in [e.coalesced.get("lookup") for e in engines]
    assert len(control.api_calls("POST")) == len(ids)
    assert len(control("GET", "/state")["actions"]) == len(ids)


def test_concurrent_tasks_for_one_device_submit_once(client, control, tmp_path):
    """The submit journal stays the guard: a task whose shared look-up was sent before another's POST adopts it."""
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    [device] = machines(control, 1)
    control("DELETE", "/log")
    results = together(6, lambda i: host_task(client, locks, device, (_quarantine.SPEC, _quarantine.options(
        SHA1, "same device"))))
    assert sorted(r["changed"] for r in results) == [False] * 5 + [True]
    assert len(set(r["action_id"] for r in results)) == 1
    assert len(control.api_calls("POST")) == 1
    assert len(control("GET", "/state")["actions"]) == 1


def test_a_task_arriving_after_the_query_was_sent_sends_the_next_one(tmp_path):
    sent, release = threading.Event(), threading.Event()
    calls = []

    def first_send(payloads):
        calls.append(sorted(p["n"] for p in payloads))
        sent.set()
        release.wait(10)
        return "first"

    def later_send(payloads):
        calls.append(sorted(p["n"] for p in payloads))
        return "later"

    out = {}
    leader = threading.Thread(target=lambda: out.setdefault("a", Gathering(str(tmp_path), 0.5, "k").share(
        {"n": 1}, first_send)))
    leader.start()
    assert sent.wait(10)
    # The first query is on its way: a task asking now must not get its answer, nor join it.
    late = threading.Thread(target=lambda: out.setdefault("b", Gathering(str(tmp_path), 0.5, "k").share(
        {"n": 2}, later_send)))
    late.start()
    time.sleep(0.3)
    release.set()
    leader.join(10)
    late.join(10)
    assert out["a"][0] == "first" and out["b"][0] == "later"
    assert out["b"][1] > out["a"][1]
    assert calls == [[1], [2]]


def test_members_of_a_failed_or_vanished_round_send_their_own(tmp_path, monkeypatch):
    # Ordered by events, not sleeps: the leader opens its round, the member joins it, and only then does the
    # leader's query leave (and fail). A busy machine can stall either thread for seconds without changing that.
    monkeypatch.setattr(_coalesce, "ARRIVAL_SECONDS", 600.0)   # the warm-up counts as "others arrived", however late
    opened, joined = threading.Event(), threading.Event()

    def leader_window(seconds):
        opened.set()
        assert joined.wait(60), "the member never joined"

    def member_check(seconds):
        joined.set()   # _join's first check: the member is in the round by now
        time.sleep(seconds)

    def failing(payloads):
        assert len(payloads) == 2   # the leader's and the member's
        raise RuntimeError("the leader's query failed")

    out = {}

    def lead():
        try:
            Gathering(str(tmp_path), 0.5, "k", sleep=leader_window).share({"n": 1}, failing)
        except RuntimeError as exc:
            out["leader"] = exc

    def join():
        assert opened.wait(60), "the leader never opened its round"
        try:
            out["member"] = Gathering(str(tmp_path), 0.5, "k", sleep=member_check).share({"n": 2}, lambda p: "never")
        except NotShared:
            out["member"] = "own"

    # A second thread arrived lately, so the leader gathers: mark one.
    Gathering(str(tmp_path), 0.5, "k").share({"n": 0}, lambda p: "warm-up")
    threads = [threading.Thread(target=lead), threading.Thread(target=join)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert isinstance(out["leader"], RuntimeError)
    assert out["member"] == "own"   # told to send its own query: never the failed one's answer, never a wait
    # A round whose leader process is gone is not joined.
    gathering = Gathering(str(tmp_path), 0.5, "gone")
    board = {"open": {"id": "ab12", "leader": 2 ** 22 + 12345, "opened": time.time(), "members": {}}}
    _coalesce.write_json(gathering.path, board)
    assert gathering.share({"n": 3}, lambda p: "mine")[0] == "mine"
    assert gathering.role == "alone"


@pytest.mark.parametrize("garbage", [
    "{not json", '{"open": 3}', '{"open": {"id": "../../x", "leader": 1, "opened": 1e12, "members": {}}}',
    '{"open": {"id": "ab", "leader": "me", "opened": "soon", "members": []}, "arrivals": [1], "finished": 7}',
])
def test_an_unreadable_shared_file_means_a_look_up_of_its_own(client, control, tmp_path, garbage):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 2)
    host_task(client, locks, ids[0])
    folder = folder_of(locks)
    for name in os.listdir(folder):
        if not name.endswith(".lock"):
            with open(os.path.join(folder, name), "w") as handle:
                handle.write(garbage)
    control("DELETE", "/log")
    result = host_task(client, locks, ids[0])
    assert len(lookups(control)) == 1          # never skipped
    assert result["changed"] is False          # and it found the action made before


def test_an_unusable_folder_means_a_look_up_of_its_own(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    os.makedirs(str(tmp_path / "state"))
    with open(folder_of(locks), "w") as handle:
        handle.write("a file where the folder would be")
    for machine_id in machines(control, 2):
        host_task(client, locks, machine_id)
    assert len(lookups(control)) == 2
    assert len(control.api_calls("POST")) == 2


def test_waiting_tasks_share_a_poll_sent_after_each_asked(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 5)
    engines = [FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "wait"),
                           FleetRequest(target_list(machine_id=m), wait=True, poll_interval=5, locks=locks))
               for m in ids]
    rows = []
    for engine in engines:
        found = engine._resolve(engine.request.targets)
        engine._find_equal(found)
        engine._submit_one(found[0])
        rows.append(found)
    control("POST", "/clock", {"advance": 600})   # every action ends
    control("DELETE", "/log")

    def poll(i):
        asked = time.time()
        engines[i]._poll(rows[i])
        return asked

    together(len(engines), poll)
    polls = control.api_calls("GET")
    assert 1 <= len(polls) < len(engines), polls
    assert all(r[0].action["status"] == "Succeeded" for r in rows)
    # Later, one task alone polls for itself: no answer of the rounds before is reused.
    control("DELETE", "/log")
    rows[0][0].action["status"] = "InProgress"
    engines[0]._poll(rows[0])
    assert len(control.api_calls("GET")) == 1
    assert rows[0][0].action["status"] == "Succeeded"
