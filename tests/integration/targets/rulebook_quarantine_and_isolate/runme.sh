#!/usr/bin/env bash
# The shipped rulebook, run by the real ansible-rulebook against the emulator: an alert with a file's SHA-1 is
# delivered by secops.defender.alerts, and the rule runs secops.defender.remediate_alert, which must leave a
# quarantine of that SHA-1 and an isolation on the device, and close the alert: Resolved with the chosen
# classification and determination, and one comment naming each action with its status. Then the alert comes again:
# the rulebook from a fresh checkpoint (the playbook's own updates are no event: nothing runs), and the same event
# straight to the playbook (the alert is Resolved: nothing is written). Then the device is released again.
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
# The source polls once and ends; ansible-rulebook then gives the playbook --shutdown-delay seconds (60 by default,
# which a busy machine can outrun) before it cancels it. The timeout below bounds the run instead.
timeout 300 ansible-rulebook -i "$out/inventory.yml" --rulebook "$out/rulebook.yml" --shutdown-delay 280 \
  > "$out/rulebook.log" 2>&1 \
  || { tail -40 "$out/rulebook.log"; exit 1; }
python rulebook_setup.py "$config" "$out" check || { tail -40 "$out/rulebook.log"; exit 1; }
# The rulebook again, its checkpoint gone: the source reads the whole window again, and the alert (now Resolved,
# after InProgress) is no event, so nothing runs and nothing is written.
rm -f "$out/checkpoint.json"
python rulebook_setup.py "$config" "$out" clear-log
timeout 300 ansible-rulebook -i "$out/inventory.yml" --rulebook "$out/rulebook.yml" --shutdown-delay 280 \
  > "$out/rulebook-again.log" 2>&1 \
  || { tail -40 "$out/rulebook-again.log"; exit 1; }
python rulebook_setup.py "$config" "$out" no-writes || { tail -40 "$out/rulebook-again.log"; exit 1; }
# The same event delivered again, straight to the playbook (as a relaunched job would): nothing is written.
ansible-playbook secops.defender.remediate_alert -i "$out/inventory.yml" -e "@$out/event.json" \
  -e remediate_poll_interval=1 > "$out/again.log" 2>&1 || { tail -40 "$out/again.log"; exit 1; }
python rulebook_setup.py "$config" "$out" no-writes || { tail -40 "$out/again.log"; exit 1; }
python rulebook_setup.py "$config" "$out" check
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_release=true -e incident_poll_interval=1 \
  -e '{"incident_machines": ["{{ defender_machine_id }}"]}' > "$out/release.log" 2>&1 || { tail -30 "$out/release.log"; exit 1; }
