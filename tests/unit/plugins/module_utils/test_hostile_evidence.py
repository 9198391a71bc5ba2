"""Evidence under a hostile API, over real HTTPS through the real client against the emulator (issue 26, items 4,
5, 9, 11): ids that would lead a write outside dest, device names that collide, two writers on one name, files
changed after they were written, reruns that must adopt the session they find, and empty library scripts."""

import hashlib
import json
import os
import time
import types

import pytest

from mde_emulator.state import deterministic_bytes

from ansible_collections.secops.defender.plugins.module_utils import _fleet, _investigation, _library
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderInputError,
    DefenderResponseError,
)
from ansible_collections.secops.defender.plugins.module_utils._files import AtomicWriter, device_folder, safe_name
from ansible_collections.secops.defender.plugins.module_utils._fleet import Row
from ansible_collections.secops.defender.plugins.module_utils._live_response import (
    fetch_results,
    live_response,
    verify_evidence,
)
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

from .conftest import WS1

PATH = "C:\\Windows\\Temp\\ev.bin"
COMMANDS = [{"type": "RunScript", "script_name": "collect_triage.ps1"}, {"type": "GetFile", "path": PATH}]


def seed(control, machines, size=4096):
    """Devices with the given (id, computerDnsName), each holding PATH (bytes derived from its id)."""
    control("POST", "/seed", {"machines": [{"id": i, "computerDnsName": n, "osPlatform": "Windows11",
                                            "files": {PATH: {"size": size}}} for i, n in machines]})
    return [i for i, _name in machines]


def expected_sha256(machine_id, size=4096):
    return hashlib.sha256(deterministic_bytes("%s:%s" % (machine_id, PATH.lower()), size)).hexdigest()


def collect(client, ids, dest, **kwargs):
    kwargs.setdefault("fail_on_device_error", False)
    kwargs.setdefault("poll_interval", 5)
    return live_response(client, COMMANDS, kwargs.pop("comment", "INC-26 forensics"), target_list(machines=ids),
                         dest=str(dest), action_subdir=kwargs.pop("action_subdir", True), manifest=True,
                         single=False, on_active_action="wait", **kwargs)


def sessions(control):
    return [a for a in control("GET", "/state")["actions"] if a["type"] == "LiveResponse"]


def files_under(root):
    return sorted(os.path.join(d, f) for d, _dirs, names in os.walk(str(root)) for f in names)


# --- item 4: ids and names from the API never lead a write outside dest ----------------------------------------
@pytest.mark.parametrize("hostile", ["../../../x", "/tmp/secops-hostile-abs/x", "..", "a\\..\\..\\x"])
def test_a_hostile_action_id_never_reaches_the_file_system(client, control, fast, tmp_path, hostile):
    if hostile.startswith("/tmp/"):
        hostile = str(tmp_path / "abs" / "x")
    ids = seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    # A consistent liar: the created action, every list and every read of it carry the hostile id.
    control("POST", "/faults", {"kind": "rewrite", "path": "runliveresponse$|^/api/machineactions", "value": hostile,
                                "alias": True, "count": 1000})
    dest = tmp_path / "work" / "dest"
    result = collect(client, ids, dest)
    row = result["results"][0]
    assert row["failed"] and row["error"]["code"] == "UnexpectedResponse", row
    assert "id" in row["msg"] and "not a GUID" in row["msg"]
    assert files_under(tmp_path / "work") == []          # nothing written, inside dest or out
    assert not os.path.exists(str(tmp_path / "abs"))


def test_a_hostile_machine_id_is_refused_before_it_reaches_a_url(client, control, tmp_path):
    seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    control("POST", "/faults", {"kind": "rewrite", "path": "^/api/machines$", "value": "../machineactions",
                                "count": 10})
    with pytest.raises(DefenderResponseError) as info:
        collect(client, ["ws-fin-001.corp.example.com"], tmp_path / "dest")
    assert "not a device id" in str(info.value) and info.value.field.startswith("id of machine")
    assert control.api_calls("POST") == []


def test_fetch_results_refuses_an_answer_for_another_id(client, control, fast, tmp_path):
    ids = seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    first = collect(client, ids, tmp_path / "one")["results"][0]
    control("POST", "/faults", {"kind": "rewrite", "path": "^/api/machineactions/", "value": "/etc/x"})
    with pytest.raises(DefenderResponseError):
        fetch_results(client, first["action_id"], dest=str(tmp_path / "again"), action_subdir=True, manifest=True)
    assert not os.path.exists(str(tmp_path / "again"))


def test_a_hostile_package_action_id_never_reaches_the_file_system(client, control, fast, tmp_path):
    seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    control("POST", "/faults", {"kind": "rewrite", "path": "collectInvestigationPackage$|^/api/machineactions",
                                "value": "../../pkg", "alias": True, "count": 1000})
    dest = tmp_path / "work" / "dest"
    with pytest.raises(DefenderActionError) as info:
        _investigation.investigation_package(client, target_list(machine_id=WS1), "INC-26", str(dest),
                                             poll_interval=5)
    assert info.value.result["error"]["code"] == "UnexpectedResponse"
    assert files_under(tmp_path / "work") == []


@pytest.mark.parametrize("remote", ["..", "../../etc/passwd", "C:\\..\\..\\x", "a\x00b", "a\nb\r", "CON", "con.txt",
                                    "CON .txt", "com1", "LPT9.log", "conin$", "/", "\\\\server\\share\\..",
                                    " . ", ".bashrc"])
def test_safe_names_stay_inside_dest(tmp_path, remote):
    name = safe_name(remote)
    assert name and not set(name) & set("/\\\x00\n\r") and not name.startswith(".")
    assert name.split(".")[0].strip().lower() not in ("con", "prn", "aux", "nul", "com1", "lpt9", "conin", "conout")
    target = os.path.realpath(os.path.join(str(tmp_path), name))
    assert os.path.dirname(target) == os.path.realpath(str(tmp_path))


@pytest.mark.parametrize("name", ["../../x", "a/b/ws", "C:\\ws", "ws\x00", "\n", "CON", None])
def test_device_folders_are_one_safe_segment_keyed_by_the_id(name):
    folder = device_folder(name, WS1)
    assert folder.endswith("-" + WS1[:12]) and not set(folder) & set("/\\\x00\n") and not folder.startswith(".")
    with pytest.raises(DefenderResponseError):
        device_folder(name, "../" + WS1[3:])


# --- item 5: evidence is never overwritten --------------------------------------------------------------------
def test_devices_whose_names_collide_get_folders_and_files_of_their_own(client, control, fast, tmp_path):
    # One name re-onboarded as two devices, and names that reduce to the same folder once made safe.
    names = ["ws-7.corp.example.com", "ws-7.corp.example.com", "WS-7.corp.example.com", "ws-7.corp.example.com.",
             "x/ws-7.corp.example.com", "..\\ws-7.corp.example.com"]
    ids = seed(control, [("%040x" % (0x26000 + i), n) for i, n in enumerate(names)])
    result = collect(client, ids, tmp_path / "ev", action_subdir=False)
    rows = result["results"]
    assert not result["failed_machines"], [r["msg"] for r in rows]
    assert len(set(r["evidence_dir"].lower() for r in rows)) == len(ids)
    for row in rows:
        assert os.path.dirname(row["evidence_dir"]) == str(tmp_path / "ev")
        with open(row["files"][0]["path"], "rb") as handle:
            on_disk = hashlib.sha256(handle.read()).hexdigest()
        assert row["files"][0]["sha256"] == on_disk == expected_sha256(row["machine_id"]), row["machine_id"]
        with open(row["manifest"]) as handle:
            manifest = json.load(handle)
        assert manifest["machine"]["id"] == row["machine_id"] and manifest["files"][0]["sha256"] == on_disk


def test_two_writers_of_one_name_never_replace_each_other(tmp_path):
    first, second = AtomicWriter(str(tmp_path), "ev.bin"), AtomicWriter(str(tmp_path), "ev.bin")
    first.write(b"device one")
    second.write(b"device two")
    paths = [second.commit(), first.commit()]
    assert [os.path.basename(p) for p in paths] == ["ev.bin", "ev-1.bin"]
    for writer, path in ((first, paths[1]), (second, paths[0])):
        with open(path, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == writer.sha256


def test_a_file_changed_after_it_was_written_fails_its_device(tmp_path):
    path = tmp_path / "ev.bin"
    path.write_bytes(b"evidence")
    good = hashlib.sha256(b"evidence").hexdigest()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"files": [{"name": "ev.bin", "sha256": good}]}))
    rows = []
    for content in (b"evidence", b"another device's bytes"):
        row = Row(WS1, machine_id=WS1, machine_name="ws")
        row.action = {"id": "7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01"}
        row.extra = {"files": [{"path": str(path), "sha256": good, "size": 8}], "manifest": str(manifest)}
        path.write_bytes(content)
        verify_evidence([row])
        rows.append(row)
    assert not rows[0].failed
    assert rows[1].failed and rows[1].error["code"] == "EvidenceMismatch" and good in rows[1].msg
    assert "action_id=7c4f2a1e" in rows[1].msg


# --- item 9: a rerun adopts the session it finds ---------------------------------------------------------------
def test_a_rerun_adopts_running_and_finished_sessions_and_fetches_their_evidence(client, control, fast, tmp_path):
    ids = seed(control, [("%040x" % (0x9000 + i), "lr-%d.corp.example.com" % i) for i in range(4)])
    # The first run is "killed" after submitting: two sessions finish before the rerun, two still run.
    collect(client, ids[:2], tmp_path / "ev", wait=False)
    control("POST", "/clock", {"advance": 60})
    collect(client, ids[2:], tmp_path / "ev", wait=False)
    before = sessions(control)
    assert [a["status"] for a in before] == ["Succeeded", "Succeeded", "Pending", "Pending"]
    rerun = collect(client, ids, tmp_path / "ev")
    assert len(sessions(control)) == 4 and len(control.api_calls("POST", "runliveresponse")) == 4
    by_machine = dict((a["machineId"], a["id"]) for a in before)
    for row in rerun["results"]:
        assert row["adopted"] and row["changed"] and not row["failed"], row["msg"]
        assert row["action_id"] == by_machine[row["machine_id"]] and "Adopted" in row["msg"]
        assert row["files"][0]["sha256"] == expected_sha256(row["machine_id"])
    assert rerun["summary"]["submitted"] == 0 and rerun["summary"]["already_done"] == 4
    # Once more: nothing new is run, and nothing is written twice.
    again = collect(client, ids, tmp_path / "ev")
    assert len(sessions(control)) == 4
    assert [f["downloaded"] for r in again["results"] for f in r["files"]] == [False] * 4
    assert not again["changed"]
    assert len(files_under(tmp_path / "ev")) == 8   # one file and one manifest per device


def test_adoption_is_by_request_and_force_or_a_zero_window_runs_anew(client, control, fast, tmp_path):
    ids = seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    first = collect(client, ids, tmp_path / "ev")["results"][0]
    other_comment = collect(client, ids, tmp_path / "ev", comment="INC-27 forensics")["results"][0]
    forced = collect(client, ids, tmp_path / "ev", force=True)["results"][0]
    no_window = collect(client, ids, tmp_path / "ev", adopt_window=0)["results"][0]
    action_ids = [first["action_id"], other_comment["action_id"], forced["action_id"], no_window["action_id"]]
    assert len(set(action_ids)) == 4 and len(sessions(control)) == 4
    assert not any(r.get("adopted") for r in (first, other_comment, forced, no_window))


def test_a_session_older_than_the_window_is_not_adopted(client, control, fast, tmp_path, monkeypatch):
    ids = seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    first = collect(client, ids, tmp_path / "ev")["results"][0]
    later = time.time() + 2 * 86400   # two days on: outside the default window of one
    shifted = types.SimpleNamespace(time=lambda: later, gmtime=time.gmtime, strftime=time.strftime)
    monkeypatch.setattr(_fleet, "time", shifted)
    second = collect(client, ids, tmp_path / "ev")["results"][0]
    assert second["action_id"] != first["action_id"] and not second.get("adopted")


def test_without_an_echoed_external_id_the_session_is_told_by_comment_and_commands(client, control, fast, tmp_path):
    ids = seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    control("POST", "/faults", {"kind": "rewrite", "path": "^/api/machineactions|runliveresponse$",
                                "field": "externalID", "value": None, "count": 1000})
    first = collect(client, ids, tmp_path / "ev")["results"][0]
    again = collect(client, ids, tmp_path / "ev")["results"][0]
    assert again["adopted"] and again["action_id"] == first["action_id"] and len(sessions(control)) == 1
    other = collect(client, ids, tmp_path / "ev", comment="another request")["results"][0]
    assert other["action_id"] != first["action_id"] and len(sessions(control)) == 2


# --- item 11: an empty library script is refused before any request -----------------------------------------
@pytest.mark.parametrize("content", [b"", b"  \r\n\t", b"\xef\xbb\xbf\n", b"\xff\xfe \x00\n\x00"])
def test_an_empty_library_script_is_refused_before_any_request(client, control, tmp_path, content):
    src = tmp_path / "collect.ps1"
    src.write_bytes(content)
    params = {"src": str(src), "name": None, "state": "present", "description": "", "has_parameters": False,
              "parameters_description": ""}
    with pytest.raises(DefenderInputError) as info:
        _library.run(client, params, check_mode=False)
    assert "empty" in str(info.value) and str(src) in str(info.value)
    assert control.api_calls() == []


@pytest.mark.parametrize("damaged,fails", [(1, False), (100, True)])
def test_a_package_damaged_at_rest_is_fetched_again_and_if_it_stays_so_fails_and_leaves_nothing(
        client, control, fast, tmp_path, damaged, fails):
    """64 bytes zeroed inside the stored zip: length and Content-MD5 match (the storage's own), only the members'
    CRCs show it. Fetched again; a package that stays corrupt fails the device, with its action id, and no file."""
    seed(control, [(WS1, "ws-fin-001.corp.example.com")])
    client._sleep = lambda delay: None
    control("POST", "/faults", {"kind": "zeroed", "host": "blob", "path": "", "count": damaged})
    dest = tmp_path / "dest"
    if not fails:
        result = _investigation.investigation_package(client, target_list(machine_id=WS1), "INC-27", str(dest),
                                                      poll_interval=5)
        package = result["results"][0]["package"]
        assert package["downloaded"] and _investigation.zip_problem(package["path"]) is None
        assert len([e for e in control.log("blob") if e.get("corrupted")]) == 1
        return
    with pytest.raises(DefenderActionError) as info:
        _investigation.investigation_package(client, target_list(machine_id=WS1), "INC-27", str(dest),
                                             poll_interval=5)
    row = info.value.result["results"][0]
    assert row["error"]["code"] == "CorruptDownload" and "fails its CRC check" in row["msg"], row
    assert row["action_id"] and row["action_id"] in (row["error"].get("hint") or "") + row["msg"] + str(
        info.value.result), row
    assert files_under(tmp_path / "dest") == []
