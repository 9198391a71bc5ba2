"""Device selection for the inventory plugin and the lookup, and the plugins' connection options."""

import pytest
import yaml

from ansible_collections.secops.defender.plugins.doc_fragments.auth import ModuleDocFragment
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._connection import AUTH_ARGSPEC
from ansible_collections.secops.defender.plugins.module_utils._selection import odata_filter, seconds, select_machines


def test_plugin_options_are_the_modules_own_with_the_same_environment_variables():
    plugin = yaml.safe_load(ModuleDocFragment.PLUGIN)["options"]
    assert sorted(plugin) == sorted(AUTH_ARGSPEC)
    for name, spec in AUTH_ARGSPEC.items():
        assert [e["name"] for e in plugin[name]["env"]] == spec["fallback"][1], name


@pytest.mark.parametrize("text,expected", [("30m", 1800), ("24h", 86400), ("7d", 604800), ("2", 172800)])
def test_seconds(text, expected):
    assert seconds(text) == expected


def test_seconds_refuses_nonsense():
    with pytest.raises(DefenderInputError):
        seconds("a week")


def test_one_filter_from_the_options():
    query = odata_filter({"filter": "riskScore eq 'High' or riskScore eq 'Medium'", "os_platforms": ["Windows11"],
                          "health_status": ["Active", "Inactive"], "onboarding_status": "Onboarded",
                          "last_seen_within": "1d"}, now=86400 * 2)
    assert query == ("(riskScore eq 'High' or riskScore eq 'Medium') and osPlatform eq 'Windows11' and "
                     "(healthStatus eq 'Active' or healthStatus eq 'Inactive') and onboardingStatus eq 'Onboarded' "
                     "and lastSeen ge 1970-01-02T00:00:00Z")
    assert odata_filter({}) is None


def test_tags_narrow_the_query_with_one_call_per_tag(client, control):
    machines = [{"id": "%040x" % (0x5e1000 + i), "computerDnsName": "sel-%02d.corp.example.com" % i,
                 "osPlatform": "Windows11" if i % 2 else "Linux", "machineTags": ["blue" if i < 4 else "red"]}
                for i in range(8)]
    control("POST", "/seed", {"machines": machines})
    control("DELETE", "/log")
    found = select_machines(client, {"tags": ["blue", "red"], "os_platforms": ["Linux"]})
    ids = set(m["id"] for m in found)
    assert ids == set(m["id"] for m in machines if m["osPlatform"] == "Linux")
    assert [c["path"] for c in control.api_calls()] == ["/api/machines", "/api/machines/findbytag",
                                                        "/api/machines/findbytag"]


# One sample per type as an environment variable holds it, and the value every entry point must read from it.
ENV_SAMPLES = {"str": ("x-1", "x-1"), "path": ("/tmp/x", "/tmp/x"), "bool": ("false", False), "int": ("30", 30),
               "dict": ('{"default": [[5, 60]]}', {"default": [[5, 60]]}), "list": ("a.example,b.example",
                                                                                    ["a.example", "b.example"])}


@pytest.mark.parametrize("name", sorted(AUTH_ARGSPEC))
def test_every_entry_point_reads_each_environment_variable_alike(name, monkeypatch):
    """A module (its argspec), the plugins (ansible's config, from the PLUGIN fragment) and the EDA source
    (resolve_connection) give each DEFENDER_* variable the same type and value."""
    from ansible.config.manager import ensure_type
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.secops.defender.plugins.module_utils._connection import resolve_connection

    spec = AUTH_ARGSPEC[name]
    plugin = yaml.safe_load(ModuleDocFragment.PLUGIN)["options"][name]
    text, expected = ENV_SAMPLES[spec["type"]]
    if spec.get("choices"):
        text = expected = spec["choices"][-1]
    for variable in spec["fallback"][1]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(spec["fallback"][1][0], text)
    module = ArgumentSpecValidator(AUTH_ARGSPEC).validate({}).validated_parameters[name]
    source = resolve_connection({})[name]
    # the plugins: ansible's config reads the variable (PLUGIN fragment), client_for() hands it to the same parser
    plugins = resolve_connection({name: ensure_type(text, plugin.get("type", "str"))})[name]
    assert module == source == plugins == expected, (module, source, plugins)
    # ansible's config cannot read a dict from an environment variable, so the fragment takes it raw (JSON text)
    assert plugin.get("type", "str") == ("raw" if spec["type"] == "dict" else spec["type"]), name


def test_a_malformed_environment_variable_is_a_clear_error(monkeypatch):
    from ansible_collections.secops.defender.plugins.module_utils._connection import resolve_connection
    monkeypatch.setenv("DEFENDER_TIMEOUT", "soon")
    with pytest.raises(DefenderInputError, match="timeout"):
        resolve_connection({})
