#!/usr/bin/env bash
# Thirty forks quarantine the same file on the same device at the same moment (one task per host, forks=30).
# The emulator's log must show exactly one POST and its state exactly one action; every fork reports that action.
set -eu
config=../../integration_config.yml
. ../setup_emulator/files/runme_lib.sh
emulator_only "$config" "it needs the emulator's request log"
out="${OUTPUT_DIR:-$(mktemp -d)}"
inventory="$out/forks.ini"
{
  echo "[forks]"
  for i in $(seq 1 30); do echo "fork$i ansible_connection=local ansible_python_interpreter=$(command -v python)"; done
} > "$inventory"
python emulator.py "$config" clear
ANSIBLE_FORKS=30 ansible-playbook -i "$inventory" -e "@${config}" -e "results_file=$out/forks.json" playbook.yml
python emulator.py "$config" check "$out/forks.json"
