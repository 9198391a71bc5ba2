"""The event source's DOCUMENTATION (what Galaxy, Automation Hub and the docs site show) against its code: every
option the source reads is documented, with the environment variables and the default the code gives it."""

import ast
import os
import re

import yaml

from ansible_collections.secops.defender.plugins.module_utils._connection import AUTH_ARGSPEC, AUTH_DEFAULTS

SOURCE = os.path.join(os.path.dirname(__file__), *([os.pardir] * 4),
                      "extensions", "eda", "plugins", "event_source", "alerts.py")
# Read after DEFENDER_CLOUD by auth_options(), as AWX's Azure credential injects it.
EXTRA_ENV = {"cloud": ["AZURE_CLOUD_ENVIRONMENT"]}


def _strings():
    with open(SOURCE) as handle:
        text = handle.read()
    found = dict((node.targets[0].id, node.value.value) for node in ast.parse(text).body
                 if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant))
    return text, found


def _own_options(text):
    """{name: default or None} for each argument the source reads itself (args.get / args[...])."""
    options = {}
    for name, default in re.findall(r"""args\.get\(\s*["'](\w+)["']\s*(?:,\s*([^)]+?))?\s*\)""", text):
        options[name] = ast.literal_eval(default) if default else None
    options.update((name, None) for name in re.findall(r"""args\[["'](\w+)["']\]""", text) if name not in options)
    return options


def test_every_option_is_documented_with_its_environment_and_default():
    text, strings = _strings()
    options = yaml.safe_load(strings["DOCUMENTATION"])["options"]
    own = _own_options(text)
    assert set(own) >= {"interval", "severities", "statuses", "categories", "checkpoint", "lookback", "once"}
    assert sorted(options) == sorted(set(AUTH_ARGSPEC) | set(own))
    for name, spec in AUTH_ARGSPEC.items():
        doc = options[name]
        assert [e["name"] for e in doc["env"]] == spec["fallback"][1] + EXTRA_ENV.get(name, []), name
        assert doc["type"] == spec["type"] and doc.get("elements") == spec.get("elements"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("default") == AUTH_DEFAULTS.get(name), name
    for name, default in own.items():
        assert "env" not in options[name], name
        if options[name]["type"] == "bool" and default is None:
            default = False  # read as a truth value: unset is false
        assert options[name].get("default") == default, name


def test_examples_are_rulebooks_with_this_source():
    text, strings = _strings()
    rulebooks = yaml.safe_load(strings["EXAMPLES"])
    documented = set(yaml.safe_load(strings["DOCUMENTATION"])["options"])
    for rulebook in rulebooks:
        (source,) = [s for s in rulebook["sources"] if "secops.defender.alerts" in s]
        assert set(source["secops.defender.alerts"]) <= documented
