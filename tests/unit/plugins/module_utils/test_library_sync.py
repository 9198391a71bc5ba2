"""The library sync (a folder's files within a scope) and library info, against the emulator over HTTPS: only
changed files go up, purge stays inside the scope, and bad input sends nothing."""

import hashlib

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _library, _library_sync
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderInputError


def sync_params(src_dir, **kwargs):
    base = {"src_dir": str(src_dir), "name_prefix": None, "managed_names": None, "purge": False, "files": []}
    base.update(kwargs)
    return base


def library(control):
    return dict((f["fileName"], f) for f in control("GET", "/state")["library"])


def writes(control):
    return [c for c in control.api_calls() if c["method"] != "GET"]


@pytest.fixture
def folder(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "ops_triage.ps1").write_text("Get-Process\n")
    (scripts / "ops_services.ps1").write_text("Get-Service\n")
    (scripts / ".gitkeep").write_text("")
    (scripts / "sub").mkdir()
    (scripts / "sub" / "ignored.ps1").write_text("ignored\n")
    return scripts


def seed_library(client, tmp_path, name, content, description=""):
    src = tmp_path / name
    src.write_text(content)
    _library.run(client, {"src": str(src), "name": None, "description": description, "has_parameters": False,
                          "parameters_description": "", "state": "present"}, False)


def test_sync_uploads_changed_files_and_purges_only_inside_the_scope(client, control, folder, tmp_path):
    seed_library(client, tmp_path, "ops_services.ps1", "Get-Service\n")     # already as in the folder
    seed_library(client, tmp_path, "ops_old.ps1", "old\n")                  # in scope, not in the folder
    seed_library(client, tmp_path, "ops-outside.ps1", "keep\n")             # '-' is not the prefix's '_'
    outside_before = dict((n, e) for n, e in library(control).items() if not n.lower().startswith("ops_"))
    control("DELETE", "/log")
    params = sync_params(folder, name_prefix="ops_", purge=True,
                         files=[{"name": "ops_triage.ps1", "description": "triage", "has_parameters": True,
                                 "parameters_description": "-Full"}])

    dry = _library_sync.sync(client, params, True)
    assert writes(control) == []
    assert [(r["name"], r["operation"]) for r in dry["results"]] == [
        ("ops_services.ps1", "none"), ("ops_triage.ps1", "upload"), ("ops_old.ps1", "delete")]
    assert dry["summary"]["would_upload"] == 1 and dry["summary"]["would_delete"] == 1 and dry["changed"]
    assert sorted(dry["diff"]["before"]) == ["ops_old.ps1", "ops_services.ps1"]
    assert sorted(dry["diff"]["after"]) == ["ops_services.ps1", "ops_triage.ps1"]
    assert dry["diff"]["after"]["ops_triage.ps1"]["sha256"] == hashlib.sha256(b"Get-Process\n").hexdigest()

    real = _library_sync.sync(client, params, False)
    assert real["summary"]["uploaded"] == 1 and real["summary"]["deleted"] == 1 and real["summary"]["unchanged"] == 1
    assert [(c["method"], c["path"]) for c in writes(control)] == [
        ("POST", "/api/libraryfiles"), ("DELETE", "/api/libraryfiles/ops_old.ps1")]
    now = library(control)
    assert sorted(n for n in now if n.lower().startswith("ops_")) == ["ops_services.ps1", "ops_triage.ps1"]
    assert now["ops_triage.ps1"]["description"] == "triage" and now["ops_triage.ps1"]["hasParameters"] is True
    assert dict((n, e) for n, e in now.items() if not n.lower().startswith("ops_")) == outside_before

    control("DELETE", "/log")
    again = _library_sync.sync(client, params, False)
    assert again["changed"] is False and writes(control) == []
    assert len(control.api_calls("GET", "/api/libraryfiles")) == 1


def test_a_settings_change_alone_uploads_again(client, control, folder):
    params = sync_params(folder, managed_names=["ops_triage.ps1", "ops_services.ps1"])
    _library_sync.sync(client, params, False)
    control("DELETE", "/log")
    params["files"] = [{"name": "ops_services.ps1", "description": "now described", "has_parameters": False,
                        "parameters_description": ""}]
    result = _library_sync.sync(client, params, False)
    assert [r["msg"] for r in result["results"] if r["changed"]] == ["Uploaded (settings changed)."]
    assert len(writes(control)) == 1


def test_managed_names_purge_only_those_names(client, control, folder, tmp_path):
    seed_library(client, tmp_path, "ops_other.ps1", "other\n")   # fits a prefix, but is not a managed name
    params = sync_params(folder, managed_names=["ops_triage.ps1", "ops_services.ps1", "fail.ps1"], purge=True)
    result = _library_sync.sync(client, params, False)
    assert [r["name"] for r in result["results"] if r["operation"] == "delete"] == ["fail.ps1"]
    assert "ops_other.ps1" in library(control) and "collect_triage.ps1" in library(control)


@pytest.mark.parametrize("change,words", [
    (dict(purge=True), "needs a scope"),
    (dict(name_prefix="x_"), "outside the scope"),
    (dict(managed_names=["ops_triage.ps1"]), "outside the scope"),
    (dict(managed_names=["ops_triage.ps1", "../etc"]), "is a path"),
    (dict(files=[{"name": "typo.ps1", "description": "", "has_parameters": False, "parameters_description": ""}]),
     "not a file in src_dir"),
])
def test_bad_requests_send_nothing(client, control, folder, change, words):
    control("DELETE", "/log")
    with pytest.raises(DefenderInputError) as info:
        _library_sync.sync(client, sync_params(folder, **change), False)
    assert words in str(info.value)
    assert control.api_calls() == []


def test_folder_problems_send_nothing(client, control, tmp_path):
    control("DELETE", "/log")
    with pytest.raises(DefenderInputError, match="is not a folder"):
        _library_sync.sync(client, sync_params(tmp_path / "missing"), False)
    (tmp_path / "A.ps1").write_text("a\n")
    (tmp_path / "a.PS1").write_text("b\n")
    with pytest.raises(DefenderInputError, match="without regard to case"):
        _library_sync.sync(client, sync_params(tmp_path), False)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.ps1").write_text("  \n")
    with pytest.raises(DefenderInputError, match="empty"):
        _library_sync.sync(client, sync_params(empty), False)
    (empty / "blank.ps1").unlink()
    (empty / "bad name.ps1").write_text("x\n")
    with pytest.raises(DefenderInputError, match="not a valid library file name"):
        _library_sync.sync(client, sync_params(empty), False)
    assert control.api_calls() == []


def test_a_failed_upload_fails_the_task_and_stays_as_it_was_in_the_diff(client, control, folder):
    # The emulator refuses nothing a checked file could be, so the failure is injected at the HTTP boundary.
    control("POST", "/faults", {"path": "^/api/libraryfiles$", "method": "POST", "status": 400, "count": 5})
    with pytest.raises(DefenderActionError) as info:
        _library_sync.sync(client, sync_params(folder, name_prefix="ops_"), False)
    result = info.value.result
    assert result["summary"]["failed"] == 2 and result["failed_files"] == ["ops_services.ps1", "ops_triage.ps1"]
    assert result["diff"]["after"] == {}
    control("DELETE", "/faults")


def test_library_info_filters_by_name_and_prefix(client):
    everything = _library.library_info(client, {"name": None, "name_prefix": None})
    assert everything["count"] == len(everything["library_files"]) >= 3
    assert set(everything["library_files"][0]) >= {"fileName", "sha256", "description", "hasParameters",
                                                   "creationTime", "lastUpdatedTime", "createdBy"}
    one = _library.library_info(client, {"name": "COLLECT_TRIAGE.ps1", "name_prefix": None})
    assert [e["fileName"] for e in one["library_files"]] == ["collect_triage.ps1"]
    assert _library.library_info(client, {"name": None, "name_prefix": "nothing_"})["count"] == 0
