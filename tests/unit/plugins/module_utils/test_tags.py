"""Device tags as desired state, through the real client against the emulator: calls per fleet and batches."""

import pytest

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._tags import machine_tags, purge_scope, tags_result


def seed(control, count):
    machines = [{"id": "%040x" % (0x7a6000 + i), "computerDnsName": "tag-%04d.corp.example.com" % i,
                 "osPlatform": "Windows11", "machineTags": ["base"] if i % 2 else []} for i in range(count)]
    control("POST", "/seed", {"machines": machines})
    return machines


def test_a_fleet_is_read_once_and_written_in_batches_of_500(client, control):
    machines = seed(control, 1100)
    targets = [(m["id"], "id") for m in machines]
    rows = machine_tags(client, targets, ["ir-hold", "base"], "present", single=False)
    result = tags_result(rows, single=False)   # raises DefenderActionError when a device failed
    assert result["summary"] == {"devices": 1100, "changed": 1100, "unchanged": 0, "failed": 0}
    gets, posts = control.api_calls("GET"), control.api_calls("POST")
    assert [g["path"] for g in gets] == ["/api/machines"]          # one paged read, not 1100
    bodies = [p for p in control.log() if p["method"] == "POST" and p["path"].endswith("Machines")]
    assert len(posts) == 3 + 2 == len(bodies)                      # ir-hold: 500+500+100; base: 550 lack it
    state = dict((m["id"], m["machineTags"]) for m in control("GET", "/state")["machines"])
    assert all("ir-hold" in state[m["id"]] and "base" in state[m["id"]] for m in machines)


def test_again_writes_nothing_and_check_mode_never_writes(client, control):
    machines = seed(control, 12)
    targets = [(m["id"], "id") for m in machines]
    machine_tags(client, targets, ["base"], "absent", check_mode=True, single=False)
    assert control.api_calls("POST") == []
    machine_tags(client, targets, ["base"], "absent", single=False)
    before = len(control.api_calls("POST"))
    rows = machine_tags(client, targets, ["base"], "absent", single=False)
    assert len(control.api_calls("POST")) == before == 1
    assert not any(r.to_remove for r in rows)


def test_purge_removes_only_managed_tags_on_a_fleet_and_shows_each_device(client, control):
    """tags is the exclusive set of the iac- tags: foreign tags stay, a managed one not named goes."""
    machines = [{"id": "%040x" % (0x7b6000 + i), "computerDnsName": "purge-%02d.corp.example.com" % i,
                 "osPlatform": "Windows11", "machineTags": ["finance", "iac-old", "iac-keep"]} for i in range(3)]
    control("POST", "/seed", {"machines": machines})
    targets = [(m["id"], "id") for m in machines]
    scope = purge_scope(True, "present", None, "iac-")
    planned = tags_result(machine_tags(client, targets, ["iac-keep", "iac-new"], check_mode=True, single=False,
                                       scope=scope), single=False, with_diff=True)
    assert control.api_calls("POST") == []
    assert planned["diff"]["before"]["purge-00.corp.example.com"] == ["finance", "iac-old", "iac-keep"]
    assert planned["diff"]["after"]["purge-00.corp.example.com"] == ["finance", "iac-keep", "iac-new"]
    assert planned["results"][0]["removed"] == ["iac-old"] and planned["results"][0]["added"] == ["iac-new"]
    machine_tags(client, targets, ["iac-keep", "iac-new"], single=False, scope=scope)
    posts = control.api_calls("POST")
    assert [p["body"]["Action"] for p in control.api_calls("POST")] == ["Remove", "Add"]
    assert len(posts) == 2
    state = dict((m["id"], m["machineTags"]) for m in control("GET", "/state")["machines"])
    assert all(sorted(state[m["id"]]) == ["finance", "iac-keep", "iac-new"] for m in machines)
    again = machine_tags(client, targets, ["iac-keep", "iac-new"], single=False, scope=scope)
    assert len(control.api_calls("POST")) == 2 and not any(r.changed for r in again)


@pytest.mark.parametrize("args,words", [
    ((True, "present", None, None), "tag_prefix"),
    ((True, "present", [], "  "), "empty prefix"),
    ((True, "absent", None, "iac-"), "state: present"),
    ((False, "present", ["a"], None), "only scope a purge"),
])
def test_a_purge_without_a_scope_is_refused(args, words):
    with pytest.raises(DefenderInputError) as caught:
        purge_scope(*args)
    assert words in str(caught.value)
