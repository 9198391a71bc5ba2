"""Rate classes per API (method and route, as each Learn page's "Limitations" states), the single pool, rate_limits
with the new names, and budget files written by older releases."""

import json
import os

import pytest

from ansible_collections.secops.defender.plugins.module_utils._budget import (
    DEFAULT_LIMITS,
    ROUTES,
    STANDARD,
    RateBudget,
    learn_page,
    parse_limits,
    rate_class,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError

MID = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
AID = "2e9da30d-27f6-4208-81f2-9cd3d67893ba"
# One real path for each route in the table, spelled as the API documents it.
EXAMPLES = {
    "isolate": ("POST", "/api/machines/%s/isolate" % MID),
    "unisolate": ("POST", "/api/machines/%s/unisolate" % MID),
    "restrictcodeexecution": ("POST", "/api/machines/%s/restrictCodeExecution" % MID),
    "unrestrictcodeexecution": ("POST", "/api/machines/%s/unrestrictCodeExecution" % MID),
    "stopandquarantinefile": ("POST", "/api/machines/%s/StopAndQuarantineFile" % MID),
    "runantivirusscan": ("POST", "/api/machines/%s/runAntiVirusScan" % MID),
    "collectinvestigationpackage": ("POST", "/api/machines/%s/collectInvestigationPackage" % MID),
    "offboard": ("POST", "/api/machines/%s/offboard" % MID),
    "runliveresponse": ("POST", "/api/machines/%s/runliveresponse" % MID),
    "startinvestigation": ("POST", "/api/machines/%s/startInvestigation" % MID),
    "machinetags": ("POST", "/api/machines/%s/tags" % MID),
    "machinetagsbatch": ("POST", "/api/machines/AddOrRemoveTagForMultipleMachines"),
    "listmachines": ("GET", "/api/machines"),
    "findbytag": ("GET", "/api/machines/findbytag"),
    "findbyip": ("GET", "/api/machines/findbyip(ip='10.0.0.1',timestamp=2024-09-22T08:44:05Z)"),
    "logonusers": ("GET", "/api/machines/%s/logonusers" % MID),
    "machine_alerts": ("GET", "/api/machines/%s/alerts" % MID),
    "getmachine": ("GET", "/api/machines/%s" % MID),
    "listmachineactions": ("GET", "/api/machineactions"),
    "getpackageuri": ("GET", "/api/machineactions/%s/getPackageUri" % AID),
    "liveresponseresult": ("GET", "/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=0)" % AID),
    "getmachineaction": ("GET", "/api/machineactions/%s" % AID),
    "cancelmachineaction": ("POST", "/api/machineactions/%s/cancel" % AID),
    "listalerts": ("GET", "/api/alerts"),
    "alertbatchupdate": ("POST", "/api/alerts/batchUpdate"),
    "getalert": ("GET", "/api/alerts/da637308392288907382_-880718168"),
    "alertupdate": ("PATCH", "/api/alerts/da637308392288907382_-880718168"),
    "alert_files": ("GET", "/api/alerts/da1/files"),
    "alert_ips": ("GET", "/api/alerts/da1/ips"),
    "alert_domains": ("GET", "/api/alerts/da1/domains"),
    "alert_user": ("GET", "/api/alerts/da1/user"),
    "alert_machine": ("GET", "/api/alerts/da1/machine"),
    "listinvestigations": ("GET", "/api/investigations"),
    "getinvestigation": ("GET", "/api/investigations/63017"),
    "listindicators": ("GET", "/api/indicators"),
    "submitindicator": ("POST", "/api/indicators"),
    "indicatorimport": ("POST", "/api/indicators/import"),
    "indicatorbatchdelete": ("POST", "/api/indicators/BatchDelete"),
    "deleteindicator": ("DELETE", "/api/indicators/995"),
    "listlibrary": ("GET", "/api/libraryfiles"),
    "uploadlibrary": ("POST", "/api/libraryfiles"),
    "deletelibrary": ("DELETE", "/api/libraryfiles/script.ps1"),
    "advancedqueries": ("POST", "/api/advancedqueries/run"),
    "files": ("GET", "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3"),
    "file_stats": ("GET", "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/stats"),
    "file_machines": ("GET", "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/machines"),
    "file_alerts": ("GET", "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/alerts"),
    "ip_stats": ("GET", "/api/ips/10.209.67.177/stats"),
    "ip_alerts": ("GET", "/api/ips/10.209.67.177/alerts"),
    "domain_stats": ("GET", "/api/domains/example.com/stats"),
    "domain_machines": ("GET", "/api/domains/example.com/machines"),
    "domain_alerts": ("GET", "/api/domains/example.com/alerts"),
    "user_machines": ("GET", "/api/users/alice/machines"),
    "user_alerts": ("GET", "/api/users/alice/alerts"),
}


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_every_route_of_the_table_has_an_example():
    assert sorted(EXAMPLES) == sorted(route[2] for route in ROUTES)


@pytest.mark.parametrize("klass", sorted(EXAMPLES))
def test_each_route_has_its_class_whatever_the_case_host_and_query(klass):
    method, path = EXAMPLES[klass]
    assert rate_class(path, method) == klass
    assert rate_class(path.upper(), method.lower()) == klass
    assert rate_class("https://api.security.microsoft.com" + path + "?$top=1", method) == klass
    assert rate_class(path + "/", method) == klass
    assert klass in DEFAULT_LIMITS
    assert learn_page(klass).startswith("https://learn.microsoft.com/defender-endpoint/api/")


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/unknown"), ("POST", "/api/machines"), ("GET", "/api/machines/%s/isolate" % MID),
    ("PUT", "/api/alerts/da1"), ("GET", "/api/machines/%s/alerts/extra" % MID), ("GET", ""), ("DELETE", "/api/alerts"),
    ("POST", "/api/machines/%s/tags/more" % MID),
])
def test_an_unknown_route_or_method_shares_default(method, path):
    assert rate_class(path, method) == "default"


def test_without_a_method_a_route_is_matched_on_its_path_alone():
    assert rate_class("/api/machines/x/runliveresponse") == "runliveresponse"
    assert rate_class("/api/alerts/batchUpdate") == "alertbatchupdate"
    assert rate_class("/api/no/such") == "default"


def test_each_class_has_the_windows_its_page_states():
    assert DEFAULT_LIMITS["isolate"] == STANDARD == [[100, 60], [1500, 3600]]
    assert DEFAULT_LIMITS["getmachineaction"] == STANDARD and DEFAULT_LIMITS["listmachineactions"] == STANDARD
    assert DEFAULT_LIMITS["runliveresponse"] == [[10, 60]]
    assert DEFAULT_LIMITS["getpackageuri"] == [[2, 60], [120, 3600]]
    assert DEFAULT_LIMITS["advancedqueries"] == [[45, 60], [1500, 3600]]
    assert DEFAULT_LIMITS["alertbatchupdate"] == [[10, 60], [500, 3600]]
    assert DEFAULT_LIMITS["alertupdate"] == STANDARD and DEFAULT_LIMITS["listalerts"] == STANDARD
    assert DEFAULT_LIMITS["indicatorimport"] == [[30, 60]]
    assert DEFAULT_LIMITS["startinvestigation"] == [[50, 3600]]


def test_rate_limits_take_every_class_name_in_any_case():
    limits = parse_limits({"Isolate": [[10, 60]], "getmachineaction": [[5, 60]], "file_stats": [[1, 1]]})
    assert limits["isolate"] == [[10, 60.0]] and limits["getmachineaction"] == [[5, 60.0]]
    assert limits["file_stats"] == [[1, 1.0]] and limits["unisolate"] == STANDARD
    assert parse_limits(json.dumps({"listmachines": [[7, 60]]}))["listmachines"] == [[7, 60.0]]
    with pytest.raises(DefenderInputError, match="unknown endpoint class 'isolation'.*isolate"):
        parse_limits({"isolation": [[1, 60]]})


def test_a_share_given_as_default_applies_to_every_standard_class_not_named():
    limits = parse_limits({"default": [[50, 60], [750, 3600]], "isolate": [[20, 60]]})
    assert limits["getmachineaction"] == [[50, 60.0], [750, 3600.0]] == limits["listmachines"]
    assert limits["isolate"] == [[20, 60.0]]
    assert limits["runliveresponse"] == [[10, 60]]  # its own limits, lower than any share of the standard ones


def budget(tmp_path, fake, limits=None, pool="per_api"):
    return RateBudget(str(tmp_path), "k", parse_limits(limits), clock=fake.clock, sleep=fake.sleep, pool=pool)


def test_per_api_a_read_does_not_wait_for_a_post(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, fake, {"default": [[2, 60]]})
    for dummy in range(2):
        b.done(b.reserve("isolate", 600))
    b.done(b.reserve("getmachineaction", 600))
    b.done(b.reserve("listmachineactions", 600))
    assert fake.slept == []
    b.done(b.reserve("isolate", 600))
    assert 59.9 < sum(fake.slept) < 61


def test_the_single_pool_counts_every_standard_class_together(tmp_path):
    fake = FakeTime()
    b = budget(tmp_path, fake, {"default": [[2, 60]]}, pool="single")
    b.done(b.reserve("isolate", 600))
    b.done(b.reserve("getmachineaction", 600))
    b.done(b.reserve("runliveresponse", 600))  # lower limits of its own: still its own class
    assert fake.slept == []
    b.done(b.reserve("listmachines", 600))
    assert 59.9 < sum(fake.slept) < 61


def test_a_429_pauses_its_class_per_api_and_every_class_in_the_single_pool(tmp_path):
    fake = FakeTime()
    per_api = budget(tmp_path / "a", fake)
    per_api.pause("isolate", 30)
    per_api.done(per_api.reserve("getmachineaction", 600))
    assert fake.slept == []
    per_api.done(per_api.reserve("isolate", 600))
    assert 29.9 < sum(fake.slept) < 31
    fake.slept = []
    single = budget(tmp_path / "b", fake, pool="single")
    single.pause("isolate", 30)
    single.done(single.reserve("runliveresponse", 600))
    assert 29.9 < sum(fake.slept) < 31


def test_an_unknown_pool_is_refused(tmp_path):
    with pytest.raises(DefenderInputError, match="rate_pool must be one of per_api, single"):
        RateBudget(str(tmp_path), "k", pool="shared")


def write_budget(tmp_path, state):
    os.makedirs(str(tmp_path), exist_ok=True)
    with open(os.path.join(str(tmp_path), "budget-k.json"), "w") as handle:
        json.dump(state, handle)


def test_a_file_an_older_release_wrote_keeps_counting(tmp_path):
    """The old release kept every standard call in "default": those calls still count there (an unknown route), its
    pause in its form (a bare number) is honoured, and the file keeps what the older release reads."""
    fake = FakeTime()
    write_budget(tmp_path, {"calls": {"default": {"done": [fake.now - 1, fake.now - 0.5], "open": {}},
                                      "runliveresponse": {"done": [fake.now - 2] * 10, "open": {}}},
                            "pause": {"default": fake.now + 5}})
    b = budget(tmp_path, fake, {"default": [[2, 60]]})
    b.done(b.reserve("isolate", 600))
    assert fake.slept == []
    b.done(b.reserve("runliveresponse", 600))
    assert 57 < sum(fake.slept) < 59.5
    with open(os.path.join(str(tmp_path), "budget-k.json")) as handle:
        state = json.load(handle)
    assert set(state["calls"]) >= {"default", "runliveresponse", "isolate"}
    assert all(sorted(log) == ["done", "open"] for log in state["calls"].values())


@pytest.mark.parametrize("state", [
    {"calls": [], "pause": None},
    {"calls": {"isolate": {"done": "x"}}, "pause": {"isolate": "soon"}},
    {"calls": {"isolate": {"done": [1, "a"], "open": {"t": [1]}}}, "pause": {"*": [None, None]}},
    {"calls": {"isolate": [1000, 1001]}},
    ["not", "a", "dict"],
])
def test_a_damaged_or_foreign_file_never_fails_a_task(tmp_path, state):
    fake = FakeTime()
    write_budget(tmp_path, state)
    b = budget(tmp_path, fake)
    b.done(b.reserve("isolate", 600))
    b.pause("isolate", 1)
    assert b.report()["calls"] == 1


# --- through the real client, against the emulator -------------------------------------------------------------
def test_per_api_reads_are_not_paced_behind_other_apis(emulator, control, params):
    from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
    control("POST", "/settings", {"rate_limits": {"default": [[3, 60]]}})
    client = build_client(dict(params, rate_limits={"default": [[3, 60]]}))
    for dummy in range(3):
        client.get("/api/machines/%s" % MID)
        client.get("/api/machineactions", params={"$top": 1})
        client.get("/api/machines", params={"$top": 1})
    assert [c["status"] for c in control.api_calls("GET")] == [200] * 9
    assert client.budget.report()["paced_calls"] == 0


def test_the_single_pool_meets_a_tenant_that_counts_every_call_together(emulator, control, params):
    """Against an API with one pool, the per-API budget sends too soon and meets 429s; rate_pool single paces every
    call into the one pool and meets none."""
    from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
    # A window of 5 s: three calls unpaced take less on any machine, however busy, so the pacing is sure to be needed.
    control("POST", "/settings", {"rate_pool": "single", "rate_limits": {"default": [[3, 5]]}})
    client = build_client(dict(params, rate_limits={"default": [[3, 5]]}, rate_pool="single",
                               token_cache_dir=params["token_cache_dir"] + "-single"))
    for dummy in range(2):
        client.get("/api/machines/%s" % MID)
        client.get("/api/machineactions", params={"$top": 1})
        client.get("/api/machines", params={"$top": 1})
    assert [c["status"] for c in control.api_calls("GET")] == [200] * 6
    assert client.budget.report()["paced_calls"] >= 1 and client.budget.report()["rate_limited"] == 0


def test_single_pool_over_a_budget_without_pools_folds_classes_and_pauses_every_pool(tmp_path):
    """The shared coordination store's budget has classes only: SinglePool folds them and a 429 holds every pool."""
    from ansible_collections.secops.defender.plugins.module_utils._budget import SINGLE_POOL_CLASSES, SinglePool
    fake = FakeTime()
    single = SinglePool(budget(tmp_path, fake, {"default": [[2, 60]]}))  # a per_api budget underneath
    single.done(single.reserve("isolate", 600))
    single.done(single.reserve("getmachineaction", 600))
    assert fake.slept == []
    single.done(single.reserve("listmachines", 600))
    assert 59.9 < sum(fake.slept) < 61
    fake.slept = []
    single.pause("isolate", 30)
    assert single.report()["rate_limited"] == 1
    for klass in sorted(SINGLE_POOL_CLASSES - {"default"}):
        single.done(single.reserve(klass, 600))
        assert 29.9 < sum(fake.slept) < 31
