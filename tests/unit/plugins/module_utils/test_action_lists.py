"""One list query for the look-ups and polls of several one-device tasks (_action_lists.py), against the emulator
over real HTTPS: what each task picks from the union's answer is what its own query returns, a need the answer
did not cover is never served from it, and a per-host play's look-up and another host's poll share one round."""

import time

from ansible_collections.secops.defender.plugins.module_utils import _action_lists as action_lists
from ansible_collections.secops.defender.plugins.module_utils import _coalesce
from ansible_collections.secops.defender.plugins.module_utils import _quarantine
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine, FleetRequest
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of

from .conftest import SHA1
from .test_coalesce import machines, together

OTHER_SHA1 = "0" * 39 + "1"


def own_query(client, wanted):
    """What the API lists for one need alone (the statuses in the query, as a task's own look-up sends them)."""
    text = all_of(any_of("type", wanted["types"]), any_of("machineId", wanted["devices"]),
                  any_of("status", wanted["statuses"]) if wanted["statuses"] else None,
                  "creationDateTimeUtc ge %s" % wanted["since"] if wanted["since"] else None)
    return sorted(a["id"] for a in client.paged("/api/machineactions", {"$filter": text}))


def iso(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def test_each_need_picks_from_the_union_exactly_what_its_own_query_lists(client, control):
    ids = machines(control, 26)
    for machine_id in ids[:22]:
        client.post("/api/machines/%s/StopAndQuarantineFile" % machine_id, {"Sha1": SHA1, "Comment": "a"})
    control("POST", "/clock", {"advance": 600})     # these end (Succeeded)...
    for machine_id in ids[10:26]:
        client.post("/api/machines/%s/StopAndQuarantineFile" % machine_id, {"Sha1": OTHER_SHA1, "Comment": "b"})
        client.post("/api/machines/%s/isolate" % machine_id, {"IsolationType": "Full", "Comment": "c"})
    needs = [
        action_lists.need([ids[0]], ["StopAndQuarantineFile"], iso(86400 * 30), ["Pending", "InProgress"]),
        action_lists.need([ids[11]], ["StopAndQuarantineFile"], iso(86400 * 30),
                          ["Pending", "InProgress", "Succeeded"]),
        action_lists.need([ids[12]], ["StopAndQuarantineFile"], iso(5)),                 # a poll: recent only
        action_lists.need([ids[13]], ["Isolate", "Unisolate"], None, ["Pending", "InProgress", "Succeeded"]),
    ] + [action_lists.need([m], ["StopAndQuarantineFile"], iso(3600)) for m in ids[4:26]]
    control("DELETE", "/log")
    answer = action_lists.send(client, needs)
    # 26 devices in the union: two queries of at most 20 devices each, never one without the device filter
    sent = [c for c in control.api_calls("GET") if c["path"] == "/api/machineactions"]
    assert len(sent) == 2 and all("machineId eq" in c["query"]["$filter"] for c in sent)
    assert answer["since"] is None     # the isolation look-up has no time bound, so the union has none
    for wanted in needs:
        assert action_lists.covers(answer, wanted)
        assert sorted(a["id"] for a in action_lists.picked(answer, wanted)) == own_query(client, wanted), wanted


def test_an_answer_that_did_not_cover_a_need_is_never_used_for_it(client, control):
    ids = machines(control, 3)
    answer = action_lists.send(client, [action_lists.need(ids[:2], ["StopAndQuarantineFile"], iso(60))])
    assert action_lists.covers(answer, action_lists.need(ids[:1], ["StopAndQuarantineFile"], iso(30)))
    for uncovered in (action_lists.need(ids[2:], ["StopAndQuarantineFile"], iso(30)),      # another device
                      action_lists.need(ids[:1], ["Isolate"], iso(30)),                    # another type
                      action_lists.need(ids[:1], ["StopAndQuarantineFile"], iso(3600)),    # further back
                      action_lists.need(ids[:1], ["StopAndQuarantineFile"], None)):        # no bound at all
        assert not action_lists.covers(answer, uncovered), uncovered


def test_a_need_out_of_shape_is_not_served_and_changes_no_query(client, control):
    ids = machines(control, 1)
    control("DELETE", "/log")
    answer = action_lists.send(client, [
        action_lists.need(ids, ["StopAndQuarantineFile"], iso(60)),
        {"devices": ["' or 1 eq 1 or '"], "types": ["StopAndQuarantineFile"], "since": None},
        {"devices": ids, "types": ["Isolate') or (type eq 'x"], "since": None},
        {"devices": ids, "types": ["Isolate"], "since": "yesterday"},
    ])
    assert answer["devices"] == ids and answer["types"] == ["StopAndQuarantineFile"] and answer["since"]
    [sent] = [c for c in control.api_calls("GET") if c["path"] == "/api/machineactions"]
    assert sent["query"]["$filter"] == "type eq 'StopAndQuarantineFile' and machineId eq '%s' and " \
        "creationDateTimeUtc ge %s" % (ids[0], answer["since"])


def test_a_look_up_and_another_hosts_poll_share_one_query(client, control, tmp_path, monkeypatch):
    # Two tasks gather only when another asked lately (ARRIVAL_SECONDS): here the other is the waiting task's own
    # look-up, a few HTTP calls before the two ask. On a machine slow enough to take 5 s over those calls, the two
    # would each send a query; what this test is about is that they share one when they do gather.
    monkeypatch.setattr(_coalesce, "ARRIVAL_SECONDS", 3600.0)
    locks = SubmitLocks(str(tmp_path / "state"), "scope")
    first, second = machines(control, 2)
    options = _quarantine.options(SHA1, "per host")
    waiting = FleetEngine(client, _quarantine.SPEC, options, FleetRequest(target_list(machine_id=first),
                                                                          wait=True, locks=locks))
    [row] = waiting._resolve(waiting.request.targets)
    waiting._find_equal([row])
    waiting._submit_one(row)
    control("POST", "/clock", {"advance": 600})       # its action ends
    arriving = FleetEngine(client, _quarantine.SPEC, options, FleetRequest(target_list(machine_id=second),
                                                                           wait=False, locks=locks))
    control("DELETE", "/log")
    asked = time.time()
    together(2, lambda i: waiting._poll([row]) if i == 0 else arriving.run())
    lists = [c for c in control.api_calls("GET") if c["path"].startswith("/api/machineactions")]
    assert len(lists) == 1, lists                                   # one query served both
    assert sorted([waiting.coalesced["poll"], arriving.coalesced["lookup"]]) == ["leader", "member"]
    assert row.action["status"] == "Succeeded"
    assert arriving.query_started >= asked                         # sent after the look-up asked
    assert [c["path"] for c in control.api_calls("POST")] == [
        "/api/machines/%s/StopAndQuarantineFile" % second]
