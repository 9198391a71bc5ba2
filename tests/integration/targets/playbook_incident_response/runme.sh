#!/usr/bin/env bash
# Run the collection playbook the way a user does (ansible-playbook secops.defender.incident_response) on one
# online and one offline device, with containment and the tenant-wide block, then check the summary, the
# evidence and the manifest on disk and the emulator's state; then run the release and check it.
set -eu
config=../../integration_config.yml
# The connection in DEFENDER_* variables, as AWX injects a credential: never as task arguments.
connection=$(python ../setup_emulator/files/connection_env.py "$config")
eval "$connection"
out="${OUTPUT_DIR:-$(mktemp -d)}/incident"
rm -rf "$out"
python emulator_settings.py "$config" fast
trap 'python emulator_settings.py "$config" normal' EXIT
set +e
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_ticket=INC-TEST-1 \
  -e incident_sha1=abcdefabcdefabcdefabcdefabcdefabcdef0099 -e incident_poll_interval=1 \
  -e "incident_dest=$out" -e "@machines.json" -e incident_contain=true -e incident_block=true >"$out.log" 2>&1
rc=$?
set -e
python check_summary.py "$config" "$out" "$rc" "$out.log" || { tail -60 "$out.log"; cat "$out/summary.json"; exit 1; }
rc=0
python check_alerts.py "$config" partial || rc=$?
if [ "$rc" -ne 3 ] && [ "$rc" -ne 0 ]; then tail -60 "$out.log"; exit 1; fi
if [ "$rc" -eq 0 ]; then
  # The online device alone, with the other alert: every step succeeds (the actions of the first run are reused),
  # and the alert is resolved with one comment. Check mode first, then for real, then again: the second time nothing
  # is written, and the comment is not added again.
  incident() {  # incident LOG [ARGS...]
    local log=$1
    shift
    ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
      -e incident_ticket=INC-TEST-1 -e incident_sha1=abcdefabcdefabcdefabcdefabcdefabcdef0099 -e incident_poll_interval=1 \
      -e "incident_dest=$out-$log" -e "@machines.json" -e incident_contain=true -e incident_block=true \
      -e '{"incident_machines": ["{{ defender_machine_name }}"], "incident_alert_ids": ["da_secops_incident_done"]}' \
      "$@" > "$out-$log.log" 2>&1 || { tail -40 "$out-$log.log"; exit 1; }
  }
  python check_alerts.py "$config" clear-log
  incident alerts-check --check
  python check_alerts.py "$config" no-writes
  incident alerts
  python check_alerts.py "$config" "done"
  python check_alerts.py "$config" clear-log
  incident alerts-again
  python check_alerts.py "$config" no-writes
  python check_alerts.py "$config" "done"
fi
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_ticket=INC-TEST-1 -e incident_poll_interval=1 \
  -e "@machines.json" -e incident_release=true >"$out-release.log" 2>&1 || { tail -40 "$out-release.log"; exit 1; }
python check_release.py "$config" "$out-release.log"
