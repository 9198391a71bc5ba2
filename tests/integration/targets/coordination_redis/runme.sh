#!/usr/bin/env bash
# Four controllers, one tenant, one Redis: four ansible-playbook runs at once, each with its own HOME, TMPDIR and
# state folder (as AWX pods would be), quarantine the same SHA-1 on the same 50 devices through one coordination
# store. The emulator must hold exactly 50 actions and have answered no 429; with the store stopped, a run fails
# before any POST, naming the store. The test starts its own redis-server (Debian's package) on 127.0.0.1.
set -eu
config=../../integration_config.yml
. ../setup_emulator/files/runme_lib.sh
emulator_only "$config" "it needs the emulator's state and log"
command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install -y redis-server"; exit 1; }
out="${OUTPUT_DIR:-$(mktemp -d)}/coordination"
rm -rf "$out" && mkdir -p "$out"
python coordination_test.py "$config" "$out"
