"""Print the connection of integration_config.yml's defender_auth as `export DEFENDER_...=...` lines, for
`eval "$(python ../setup_emulator/files/connection_env.py CONFIG)"`: the credentials reach the modules through the
environment, as AWX injects them, never as task arguments."""

import json
import shlex
import sys


def main(config_path, key="defender_auth"):
    with open(config_path) as handle:
        auth = json.load(handle)[key]
    for name, value in sorted(auth.items()):
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        print("export DEFENDER_%s=%s" % (name.upper(), shlex.quote(str(value))))


if __name__ == "__main__":
    main(*sys.argv[1:])
