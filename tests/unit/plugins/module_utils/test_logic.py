"""Pure logic: command validation, safe file names, gzip handling, dedupe matching, input checks."""

import gzip
import os

import pytest

from ansible_collections.secops.defender.plugins.module_utils._actions import check_guid, describe_failure
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._files import AtomicWriter, commit_unpacked, safe_name
from ansible_collections.secops.defender.plugins.module_utils._live_response import build_commands
from ansible_collections.secops.defender.plugins.module_utils._odata import all_of, any_of, literal
from ansible_collections.secops.defender.plugins.module_utils._fleet import newest_equal
from ansible_collections.secops.defender.plugins.module_utils._quarantine import SPEC, normalise_sha1


def find_equal(actions, machine_id, sha1):
    return newest_equal(actions, {machine_id}, SPEC, {"sha1": sha1}).get(machine_id)


SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
M = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"


def cmd(kind, **kwargs):
    base = {"type": kind, "file_name": None, "script_name": None, "args": None, "path": None}
    base.update(kwargs)
    return base


# --- commands ------------------------------------------------------------------------------------------
def test_commands_become_the_api_shape():
    out = build_commands([cmd("PutFile", file_name="tool.exe"), cmd("RunScript", script_name="s.ps1", args="-x"),
                          cmd("GetFile", path="C:\\a.txt")])
    assert out == [
        {"type": "PutFile", "params": [{"key": "FileName", "value": "tool.exe"}]},
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "s.ps1"}, {"key": "Args", "value": "-x"}]},
        {"type": "GetFile", "params": [{"key": "Path", "value": "C:\\a.txt"}]},
    ]


def test_order_is_checked_before_sending():
    with pytest.raises(DefenderInputError) as info:
        build_commands([cmd("GetFile", path="C:\\a"), cmd("RunScript", script_name="s.ps1")])
    assert "PutFile, then RunScript, then GetFile" in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(DefenderInputError) as info:
        build_commands([cmd("RunScript"), cmd("GetFile", path="x", script_name="s.ps1"), cmd("Shell")])
    text = str(info.value)
    assert "command 0 (RunScript) needs script_name" in text
    assert "command 1 (GetFile) does not take script_name" in text
    assert "command 2: type must be" in text


def test_no_commands_is_refused():
    with pytest.raises(DefenderInputError):
        build_commands([])


# --- file names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("remote,expected", [
    ("C:\\Windows\\Temp\\triage.txt", "triage.txt"),
    ("/var/log/syslog", "syslog"),
    ("C:\\x\\..\\..\\evil", "evil"),
    ("..", "file_download"),
    ("C:\\dir\\", "file_download"),
    ("C:\\x\\.bashrc", "bashrc"),
    ("C:\\x\\CON", "file_CON"),
    ("C:\\x\\a b$(rm -rf).txt", "a b_rm -rf_.txt"),
])
def test_safe_names(remote, expected):
    assert safe_name(remote) == expected
    assert "/" not in safe_name(remote) and "\\" not in safe_name(remote)


def test_collisions_never_overwrite(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    assert safe_name("C:\\a.txt", directory=str(tmp_path)) == "a-1.txt"
    assert safe_name("D:\\A.TXT", taken=["a-1.txt"], directory=str(tmp_path)) == "A-2.TXT"


def test_gzip_download_is_unpacked_atomically(tmp_path):
    writer = AtomicWriter(str(tmp_path), "f.bin")
    writer.write(gzip.compress(b"payload" * 1000))
    assert commit_unpacked(writer) is True
    assert (tmp_path / "f.bin").read_bytes() == b"payload" * 1000
    assert os.listdir(str(tmp_path)) == ["f.bin"]


def test_raw_download_is_kept(tmp_path):
    writer = AtomicWriter(str(tmp_path), "f.bin")
    writer.write(b"raw bytes")
    assert commit_unpacked(writer) is False
    assert (tmp_path / "f.bin").read_bytes() == b"raw bytes"


def test_aborted_write_leaves_nothing(tmp_path):
    writer = AtomicWriter(str(tmp_path), "f.bin")
    writer.write(b"half")
    writer.abort()
    assert os.listdir(str(tmp_path)) == []


# --- dedupe --------------------------------------------------------------------------------------------
def action(status, sha1=SHA1, machine=M, kind="StopAndQuarantineFile", created="2026-11-22T10:00:00Z", id="a"):
    return {"id": id, "type": kind, "status": status, "machineId": machine, "creationDateTimeUtc": created,
            "relatedFileInfo": {"fileIdentifier": sha1.upper(), "fileIdentifierType": "Sha1"}}


@pytest.mark.parametrize("status,counts", [("Pending", True), ("InProgress", True), ("Succeeded", True),
                                           ("Failed", False), ("TimeOut", False), ("Cancelled", False)])
def test_only_pending_running_or_succeeded_count(status, counts):
    assert (find_equal([action(status)], M, SHA1) is not None) is counts


def test_other_files_machines_and_types_do_not_count():
    others = [action("Pending", sha1="0" * 40), action("Pending", machine="f" * 40),
              action("Pending", kind="RunAntiVirusScan")]
    assert find_equal(others, M, SHA1) is None


def test_the_newest_match_wins():
    found = find_equal([action("Succeeded", id="old", created="2026-11-01T00:00:00Z"),
                        action("Pending", id="new", created="2026-11-22T00:00:00Z")], M, SHA1)
    assert found["id"] == "new"


# --- input checks --------------------------------------------------------------------------------------
def test_sha1_is_normalised_and_hashes_of_other_kinds_are_named():
    assert normalise_sha1(" " + SHA1.upper() + " ") == SHA1
    with pytest.raises(DefenderInputError) as info:
        normalise_sha1("a" * 64)
    assert "SHA-256" in str(info.value)
    with pytest.raises(DefenderInputError) as info:
        normalise_sha1("a" * 32)
    assert "MD5" in str(info.value)
    with pytest.raises(DefenderInputError):
        normalise_sha1("z" * 40)


def test_guid_check():
    assert check_guid("7C4F2A1E-0B5D-4E3A-9F1C-2D8E6B4A9C01") == "7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01"
    with pytest.raises(DefenderInputError):
        check_guid("7c4f2a1e")


def test_failure_description_names_status_and_errors():
    text = describe_failure({"id": "x", "type": "LiveResponse", "status": "Failed", "computerDnsName": "ws",
                             "commands": [{"index": 0, "command": {"type": "RunScript"}, "errors": ["boom"]}]})
    assert "ended Failed" in text and "command 0 (RunScript): boom" in text
    assert "online" in describe_failure({"id": "x", "status": "TimeOut"})


def test_odata_literals_cannot_break_out():
    assert literal("o'brien") == "'o''brien'"
    assert any_of("status", ["Pending", "InProgress"]) == "(status eq 'Pending' or status eq 'InProgress')"
    assert all_of(None, "a eq 'b'", None) == "a eq 'b'"
