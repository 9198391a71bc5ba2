"""Every module's copy of the shared RETURN keys against the one text of them, fleet_return.yml beside this file.

Ansible has no doc fragments for RETURN, so the fleet keys (results, failed_machines, summary, action_id...), the
rate budget and the error are written out in each module. This test imports every module, parses its RETURN and
holds each shared key to the canonical text: description, type, elements, returned and contains, at any depth.
fleet_return.yml says which modules share which keys, which fields a module words itself (own) and which entries a
module may add to a contains (extra_contains). Samples and version_added are the module's own."""

import importlib
import os

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CANON_FILE = os.path.join(HERE, "fleet_return.yml")
MODULE_DIR = os.path.join(HERE, os.pardir, os.pardir, os.pardir, os.pardir, "plugins", "modules")
HELD = ("description", "type", "elements", "returned")

with open(CANON_FILE) as handle:
    CANON = yaml.safe_load(handle)

MODULES = sorted(name[:-3] for name in os.listdir(MODULE_DIR) if name.startswith("defender_") and name.endswith(".py"))


def group_modules(group):
    return MODULES if group["modules"] == "all" else group["modules"]


def module_return(name):
    module = importlib.import_module("ansible_collections.secops.defender.plugins.modules." + name)
    return yaml.safe_load(module.RETURN) or {}


def rules(group, name, section):
    """{path: [...]} of `section` (own or extra_contains) for one module: the group's "*" entries and its own."""
    found = {}
    for who in ("*", name):
        for path, items in (group.get(section) or {}).get(who, {}).items():
            found.setdefault(path, []).extend(items)
    return found


def differences(canon, doc, path, own, extra):
    """How the module's doc of one key (`doc`) departs from the canonical one, as sentences naming the path."""
    if not isinstance(doc, dict):
        return ["%s is not a dict in the module's RETURN" % path]
    found = []
    mine = own.get(path, ())
    for field in HELD:
        if field not in mine and canon.get(field) != doc.get(field):
            found.append("%s: %s differs\n    canonical: %r\n    module:    %r"
                         % (path, field, canon.get(field), doc.get(field)))
    if "contains" in mine:
        return found
    canon_contains = canon.get("contains") or {}
    doc_contains = doc.get("contains") or {}
    for key, entry in canon_contains.items():
        if key not in doc_contains:
            found.append("%s.%s is missing" % (path, key))
        else:
            found.extend(differences(entry, doc_contains[key], "%s.%s" % (path, key), own, extra))
    allowed = extra.get(path, ())
    for key in doc_contains:
        if key not in canon_contains and key not in allowed:
            found.append("%s.%s is not in the canonical contains of %s, and extra_contains does not allow it"
                         % (path, key, path))
    return found


CASES = [(group_name, name, key)
         for group_name, group in sorted(CANON["groups"].items())
         for name in group_modules(group)
         for key in group["keys"]]


def documented(name, path):
    """The module's doc of a RETURN key, or of an entry in its contains for a path (results.error); None if absent."""
    parts = path.split(".")
    doc = module_return(name).get(parts[0])
    for part in parts[1:]:
        doc = ((doc or {}).get("contains") or {}).get(part)
    return doc


@pytest.mark.parametrize("group_name, name, key", CASES, ids=["%s-%s-%s" % case for case in CASES])
def test_shared_key_is_the_canonical_text(group_name, name, key):
    group = CANON["groups"][group_name]
    doc = documented(name, key)
    assert doc is not None, "%s documents no %s in RETURN (group %s of fleet_return.yml)" % (name, key, group_name)
    found = differences(group["keys"][key], doc, key, rules(group, name, "own"), rules(group, name, "extra_contains"))
    assert not found, "%s's RETURN departs from fleet_return.yml (group %s):\n  %s" % (
        name, group_name, "\n  ".join(found))


def test_the_canonical_file_names_real_modules_and_keys():
    for group_name, group in CANON["groups"].items():
        members = group_modules(group)
        assert members, group_name
        for name in members:
            assert name in MODULES, "%s: no module %s" % (group_name, name)
        for section in ("own", "extra_contains"):
            for who, paths in (group.get(section) or {}).items():
                assert who == "*" or who in members, "%s.%s names %s, not of the group" % (group_name, section, who)
                for path in paths:
                    assert path.split(".")[0] in group["keys"], "%s.%s: %s is no key of the group" % (
                        group_name, section, path)


def test_every_module_with_device_rows_is_held():
    """A new fleet module (one that returns failed_machines) must join a group, so its copy is held too."""
    held = set(name for group in CANON["groups"].values() if "failed_machines" in group["keys"]
               for name in group_modules(group))
    with_rows = set(name for name in MODULES if "failed_machines" in module_return(name))
    assert with_rows <= held, "not held by fleet_return.yml: %s" % ", ".join(sorted(with_rows - held))


def test_the_check_finds_a_drifted_copy():
    """The comparison itself: a changed word, a changed type, a missing entry and an entry added unasked all show."""
    canon = CANON["groups"]["machine_action"]["keys"]["results"]
    drifted = yaml.safe_load(yaml.safe_dump(canon))
    drifted["contains"]["status"]["description"] += " Drifted."
    drifted["contains"]["changed"]["type"] = "str"
    del drifted["contains"]["msg"]
    drifted["contains"]["unasked"] = {"description": "Not in the canon.", "type": "str"}
    found = differences(canon, drifted, "results", {}, {})
    assert len(found) == 4, found
    assert differences(canon, drifted, "results", {"results.status": ["description"], "results.changed": ["type"]},
                       {"results": ["unasked"]}) == ["results.msg is missing"]
