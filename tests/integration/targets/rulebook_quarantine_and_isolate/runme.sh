#!/usr/bin/env bash
# The shipped rulebook, run by the real ansible-rulebook against the emulator: an alert with a file's SHA-1 is
# delivered by secops.defender.alerts, and the rule runs secops.defender.remediate_alert, which must leave a
# quarantine of that SHA-1 and an isolation on the device. Then the device is released again.
set -eu
config=../../integration_config.yml
# The connection in DEFENDER_* variables, as AWX injects a credential: never as task arguments.
connection=$(python ../setup_emulator/files/connection_env.py "$config")
eval "$connection"
out="${OUTPUT_DIR:-$(mktemp -d)}/rulebook"
mkdir -p "$out"
if ! command -v java >/dev/null 2>&1; then
  echo "skipped: ansible-rulebook needs Java 17, and there is no java here"
  exit 0
fi
rc=0
python rulebook_setup.py "$config" "$out" || rc=$?
if [ "$rc" -eq 3 ]; then exit 0; fi   # a real tenant: alerts cannot be created there
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
trap 'python rulebook_setup.py "$config" "$out" reset' EXIT
# shellcheck disable=SC1091
. "$out/env.sh"
timeout 300 ansible-rulebook -i "$out/inventory.yml" --rulebook "$out/rulebook.yml" > "$out/rulebook.log" 2>&1 \
  || { tail -40 "$out/rulebook.log"; exit 1; }
python rulebook_setup.py "$config" "$out" check || { tail -40 "$out/rulebook.log"; exit 1; }
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_release=true -e incident_poll_interval=1 \
  -e '{"incident_machines": ["{{ defender_machine_id }}"]}' > "$out/release.log" 2>&1 || { tail -30 "$out/release.log"; exit 1; }
