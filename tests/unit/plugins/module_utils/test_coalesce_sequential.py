"""The failure that had per-host coalescing reverted, kept apart from test_coalesce.py so that it runs against any
version of the engine (it uses run_action and the submit locks only): a task of a sequential play must see what the
task before it did, never a look-up sent before it started."""

from ansible_collections.secops.defender.plugins.module_utils._containment import isolation
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

WS2 = "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"


def host_task(client, locks, machine_id, spec_options, **settings):
    spec, options = spec_options
    settings.setdefault("wait", False)
    return run_action(client, spec, options, target_list(machine_id=machine_id), locks=locks, **settings)


def lookups(control):
    return [c for c in control.api_calls("GET") if c["path"] == "/api/machineactions"]


def test_a_sequential_task_never_uses_a_look_up_sent_before_it_started(client, control, tmp_path):
    """The reverted attempt's failure: a check-mode task right after a real submit inherited the look-up taken
    before that POST and predicted a second isolation. Each task here must see what the one before it did."""
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    isolate = isolation("isolated", "Full", "per host")
    before = host_task(client, locks, WS2, isolate, check_mode=True)
    assert before["changed"] is True                     # not isolated yet: it would submit
    submitted = host_task(client, locks, WS2, isolate)
    assert submitted["changed"] is True
    again = host_task(client, locks, WS2, isolate, check_mode=True)
    assert again["changed"] is False, again              # it sees the isolation submitted just before it
    assert again["action_id"] == submitted["action_id"]
    released = host_task(client, locks, WS2, isolation("released", None, "per host"), check_mode=True)
    assert released["changed"] is True
    assert len(lookups(control)) == 4                    # one look-up per task: nothing reused
    assert len(control.api_calls("POST")) == 1
