#!/usr/bin/env bash
# The inventory plugin and the lookup the way a user runs them: ansible-inventory on a *.defender.yml file (groups,
# host variables, filters, and a cache hit proven by the emulator's request log), and a play that uses the lookup
# with the connection in DEFENDER_* environment variables.
set -eu
python inventory_test.py ../../integration_config.yml "${OUTPUT_DIR:-$(mktemp -d)}"
