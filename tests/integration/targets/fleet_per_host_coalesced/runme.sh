#!/usr/bin/env bash
# A per-host play: 30 hosts, forks=25, one quarantine task per host, each on its own device. The tasks share their
# equal-action look-up and their polls through the state folder (_coalesce.py). In check mode, for real, and again:
# the emulator's log must show at most one POST per device, no duplicate action, fewer list queries and GETs than
# devices (calls per device are printed), and nothing written the second time.
set -eu
config=../../integration_config.yml
. ../setup_emulator/files/runme_lib.sh
emulator_only "$config" "it needs the emulator's request log"
out="${OUTPUT_DIR:-$(mktemp -d)}"
inventory="$out/hosts.ini"
python emulator.py "$config" seed "$inventory" "$(command -v python)"
for run in check real again; do
  python emulator.py "$config" clear
  flags=""
  [ "$run" = check ] && flags="--check"
  ANSIBLE_FORKS=25 ansible-playbook -i "$inventory" -e "@${config}" -e "results_file=$out/$run.json" $flags playbook.yml
  python emulator.py "$config" "$run" "$out/$run.json"
done
