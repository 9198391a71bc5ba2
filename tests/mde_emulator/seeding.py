"""Seeds: the packaged ones by name (default, demo), or any JSON/YAML seed file by path."""

import json
import os

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def seed_path(name_or_path="default"):
    if os.path.isfile(name_or_path) or os.path.sep in name_or_path or name_or_path.endswith((".json", ".yml",
                                                                                             ".yaml")):
        return name_or_path
    return os.path.join(SEEDS, name_or_path + ".json")


def load_seed(name_or_path="default"):
    """The seed as a dict: apps, machines, library, scripts, alerts, settings."""
    path = seed_path(name_or_path)
    with open(path) as handle:
        if path.endswith((".yml", ".yaml")):
            import yaml  # the "yaml" extra
            return yaml.safe_load(handle)
        return json.load(handle)
