"""Per-host tasks of one controller sharing their equal-action look-up and their polls (_coalesce.py), against the
emulator over real HTTPS: what is shared, that the journal check stays as safe, an action made outside the play
after the shared look-up, and unreadable or stale shared files."""

import os
import time

from ansible_collections.secops.defender.plugins.module_utils import _coalesce, _quarantine
from ansible_collections.secops.defender.plugins.module_utils._coalesce import PollBoard, SharedLookup, folder_of
from ansible_collections.secops.defender.plugins.module_utils._containment import isolation
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine, FleetRequest, run_action
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

from .conftest import SHA1, WS1

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


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


def by_device(call):
    return "machineId" in call["query"].get("$filter", "")


def test_tasks_arriving_together_share_one_look_up_for_every_device(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 6)
    control("DELETE", "/log")
    results = [host_task(client, locks, machine_id) for machine_id in ids]
    assert [r["changed"] for r in results] == [True] * 6
    listed = lookups(control)
    # The first task, alone, asks for its device only; the second one for every device; the rest reuse that.
    assert len(listed) == 2, listed
    assert by_device(listed[0]) and not by_device(listed[1])
    assert len(control.api_calls("POST")) == 6
    assert len(control("GET", "/state")["actions"]) == 6


def test_a_task_alone_keeps_its_device_only_look_up(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    host_task(client, locks, WS1)
    assert [by_device(c) for c in lookups(control)] == [True]


def test_a_reused_look_up_still_sees_what_another_task_submitted_after_it_started(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 3)
    host_task(client, locks, ids[0])
    host_task(client, locks, ids[1])            # the shared look-up: nothing on ids[2] yet
    # Another task submits on ids[2] after that look-up began, then a third task reuses the look-up.
    first = host_task(client, locks, ids[2])
    engine = FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "again"),
                         FleetRequest(target_list(machine_id=ids[2]), wait=False, locks=locks))
    rows = engine._resolve(engine.request.targets)
    assert engine._find_equal(rows) == {}       # the reused answer predates that submission
    assert engine.lookup.shared is True
    engine._submit_one(rows[0])
    assert rows[0].changed is False and "another task" in rows[0].msg
    assert rows[0].action["id"] == first["action_id"]
    assert len(control.api_calls("POST", ids[2])) == 1


def test_an_equal_action_made_outside_the_play_after_the_shared_look_up_is_adopted_not_duplicated(
        client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 3)
    isolate = isolation("isolated", "Full", "per host")
    host_task(client, locks, ids[0], isolate)
    host_task(client, locks, ids[1], isolate)   # the shared look-up
    # The portal (or another controller) isolates ids[2] now: the shared answer cannot know.
    outside = client.post("/api/machines/%s/isolate" % ids[2], {"Comment": "portal", "IsolationType": "Full"})
    result = host_task(client, locks, ids[2], isolate)
    posts = control.api_calls("POST", ids[2])
    assert len(posts) == 2 and posts[1]["status"] == 400    # the API refused: ActiveRequestAlreadyExists
    assert result["changed"] is False and result["action_id"] == outside["id"]
    isolations = [a for a in control("GET", "/state")["actions"] if a["machineId"] == ids[2]]
    assert len(isolations) == 1


def test_an_outside_action_of_another_kind_still_fails_the_task(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    client.post("/api/machines/%s/isolate" % WS2, {"Comment": "portal", "IsolationType": "Selective"})
    result = None
    try:
        result = host_task(client, locks, WS2, isolation("isolated", "Full", "per host"), force=True)
    except Exception as exc:  # the busy error, as without coalescing
        assert "already has action" in str(exc)
    assert result is None


def test_an_unreadable_or_stale_shared_look_up_means_a_look_up_of_its_own(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 4)
    host_task(client, locks, ids[0])
    host_task(client, locks, ids[1])            # writes a shared answer
    host_task(client, locks, ids[2])
    folder = folder_of(locks)
    boards = [os.path.join(folder, n) for n in os.listdir(folder) if not n.endswith(".lock")]
    for garbage in ("{not json", '{"started": "soon", "actions": 3}', '{"started": 1, "actions": []}',
                    '{"started": 9e12, "actions": []}', '{"started": %f, "actions": [{"id": "../x"}]}' % time.time(),
                    '{"started": %f, "actions": {"id": 1}}' % time.time()):
        for path in boards:
            with open(path, "w") as handle:
                handle.write(garbage)
        control("DELETE", "/log")
        result = host_task(client, locks, ids[2])
        assert len(lookups(control)) == 1, garbage   # never skipped
        assert result["changed"] is False           # and it found the action made before
        control("DELETE", "/log")


def test_an_unusable_folder_means_a_look_up_of_its_own(client, control, tmp_path):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    os.makedirs(str(tmp_path / "state"))
    with open(folder_of(locks), "w") as handle:
        handle.write("a file where the folder would be")
    for machine_id in (WS1, WS2):
        host_task(client, locks, machine_id)
    assert [by_device(c) for c in lookups(control)] == [True, True]
    assert len(control.api_calls("POST")) == 2


def test_waiting_tasks_share_one_poll_per_round(client, control, tmp_path, fast):
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    ids = machines(control, 4)
    engines = [FleetEngine(client, _quarantine.SPEC, _quarantine.options(SHA1, "wait"),
                           FleetRequest(target_list(machine_id=m), wait=True, poll_interval=5, locks=locks))
               for m in ids]
    rows = []
    for engine in engines:                      # every task submits, then each one polls in turn
        row = engine._resolve(engine.request.targets)
        engine._find_equal(row)
        engine._submit_one(row[0])
        rows.append(row)
    control("DELETE", "/log")
    for engine, row in zip(engines, rows):
        engine._poll(row)
    polls = control.api_calls("GET")
    assert len(polls) == 1 and polls[0]["path"] == "/api/machineactions", polls
    assert sum(e.board.shared_reads for e in engines) == 3
    # A task never takes an answer older than its own last look: the next round polls again.
    control("POST", "/clock", {"advance": 600})
    for engine, row in zip(engines, rows):
        engine._poll(row)
    assert len(control.api_calls("GET")) == 2
    assert all(r[0].action["status"] == "Succeeded" for r in rows)
    assert os.path.exists(engines[0].board.path)


def test_the_poll_board_drops_entries_out_of_shape_and_abandoned(tmp_path):
    now = [1000.0]
    board = PollBoard(str(tmp_path), "scope", now=lambda: now[0])
    mine = {"id": "11111111-1111-4111-8111-111111111111", "status": "Pending", "type": "Isolate"}
    other = {"id": "22222222-2222-4222-8222-222222222222", "status": "Pending", "type": "Isolate"}
    third = {"id": "33333333-3333-4333-8333-333333333333", "status": "Pending", "type": "Isolate"}
    board.register(mine, 5)
    PollBoard(str(tmp_path), "scope", now=lambda: now[0]).register(other, 5)
    asked = []

    def poll_all(actions, listed=None):
        asked.append([a["id"] for a in actions])
        if listed is not None:   # the list also showed a third task's action, already final
            listed[third["id"]] = dict(third, status="Succeeded")
        return dict((a["id"], dict(a, status="InProgress")) for a in actions)

    now[0] += 1
    assert board.poll(mine, poll_all)[mine["id"]]["status"] == "InProgress"
    assert asked == [[mine["id"], other["id"]]]
    # The third task registers after that poll: its first poll is a read of the final answer.
    late = PollBoard(str(tmp_path), "scope", now=lambda: now[0])
    late.register(third, 5)
    assert late.poll(third, poll_all)[third["id"]]["status"] == "Succeeded"
    assert len(asked) == 1 and late.shared_reads == 1
    now[0] += _coalesce.ABANDONED_SECONDS + 100  # the other task went away
    board.poll(mine, poll_all)
    assert asked[-1] == [mine["id"]]
    with open(board.path, "w") as handle:
        handle.write('{"%s": {"action": {"id": "../../etc"}, "seen": 1e12}}' % mine["id"])
    now[0] += 1
    assert board.poll(mine, poll_all)[mine["id"]]["id"] == mine["id"]
    assert asked[-1] == [mine["id"]]


def test_a_shared_look_up_is_fresh_for_a_few_seconds_only(tmp_path):
    now = [1000.0]
    lookup = SharedLookup(str(tmp_path), "scope", now=lambda: now[0])
    calls = []

    def own():
        calls.append("own")
        return []

    def everyone():
        calls.append("everyone")
        return []

    assert lookup.fetch("k", own, everyone) == ([], 1000.0)
    now[0] += 1
    assert lookup.fetch("k", own, everyone) == ([], 1001.0)
    now[0] += 1
    assert lookup.fetch("k", own, everyone) == ([], 1001.0)   # reused, with the look-up's own start time
    now[0] += _coalesce.FRESH_SECONDS
    lookup.fetch("k", own, everyone)
    assert calls == ["own", "everyone", "everyone"]
    now[0] += 100
    lookup.fetch("other key", own, everyone)
    assert calls[-1] == "own"
