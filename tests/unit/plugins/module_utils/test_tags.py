"""Device tags as desired state, through the real client against the emulator: calls per fleet and batches."""

from ansible_collections.secops.defender.plugins.module_utils._tags import machine_tags, tags_result


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
    assert not any(r.to_change for r in rows)
