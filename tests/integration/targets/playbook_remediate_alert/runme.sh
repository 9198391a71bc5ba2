#!/usr/bin/env bash
# The event-driven path end to end on the emulator: an alert with a file's SHA-1 on a device is read by the
# secops.defender.alerts event source, and its event drives ansible-playbook secops.defender.remediate_alert,
# which must leave a quarantine of that SHA-1 and an isolation on the device; then the device is released.
set -eu
config=../../integration_config.yml
# The connection in DEFENDER_* variables, as AWX injects a credential: never as task arguments.
connection=$(python ../setup_emulator/files/connection_env.py "$config")
eval "$connection"
out="${OUTPUT_DIR:-$(mktemp -d)}/remediate"
mkdir -p "$out"
rc=0
python make_event.py "$config" "$out" || rc=$?
if [ "$rc" -eq 3 ]; then exit 0; fi   # a real tenant: alerts cannot be created there
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
trap 'python make_event.py "$config" "$out" reset' EXIT
# A secret given as a module argument (through defender_connection) is refused before anything is sent.
if ansible-playbook secops.defender.remediate_alert -i ../../inventory -e "@$out/event.json" \
    -e '{"defender_connection": {"client_secret": "not-from-the-environment"}}' > "$out/secret-arg.log" 2>&1; then
  echo "a client_secret in defender_connection was accepted"; exit 1
fi
grep -q "defender_connection holds a secret" "$out/secret-arg.log" || { tail -20 "$out/secret-arg.log"; exit 1; }
ansible-playbook secops.defender.remediate_alert -i ../../inventory -e "@${config}" \
  -e "@$out/event.json" -e remediate_poll_interval=1 \
  -e remediate_block=true > "$out/remediate.log" 2>&1 || { tail -40 "$out/remediate.log"; exit 1; }
python check_remediation.py "$config" "$out/event.json"
# Release the device again, so the targets after this one find it as they expect.
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_release=true -e incident_poll_interval=1 \
  -e '{"incident_machines": ["{{ defender_machine_id }}"]}' > "$out/release.log" 2>&1 || { tail -30 "$out/release.log"; exit 1; }
