#!/usr/bin/env bash
# The event-driven path end to end on the emulator: an alert with a file's SHA-1 on a device is read by the
# secops.defender.alerts event source, and its event drives ansible-playbook secops.defender.remediate_alert, which
# must leave a quarantine of that SHA-1 and an isolation on the device, and close the alert: Resolved with the chosen
# classification and determination and one comment naming every action. Check mode first (nothing written), then
# for real, then the same event again (nothing written: the alert is Resolved). Reopened, the rerun sends only the
# status, never a second comment. A Linux device refuses StopAndQuarantineFile: that alert stays InProgress with one
# comment naming the refusal, however often the event comes. Then the devices are released.
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
python make_event.py "$config" "$out" linux
event="$out/event.json"
linux="$out/event-linux.json"
check() { python check_remediation.py "$config" "$@"; }
remediate() {  # remediate LOG EVENT [ARGS...]
  local log=$1 ev=$2
  shift 2
  ansible-playbook secops.defender.remediate_alert -i ../../inventory -e "@${config}" -e "@$ev" \
    -e remediate_poll_interval=1 "$@" > "$out/$log.log" 2>&1
}
# A secret given as a module argument (through defender_connection) is refused before anything is sent.
if ansible-playbook secops.defender.remediate_alert -i ../../inventory -e "@$event" \
    -e '{"defender_connection": {"client_secret": "not-from-the-environment"}}' > "$out/secret-arg.log" 2>&1; then
  echo "a client_secret in defender_connection was accepted"; exit 1
fi
grep -q "defender_connection holds a secret" "$out/secret-arg.log" || { tail -20 "$out/secret-arg.log"; exit 1; }
# A classification and determination that do not belong together are refused before anything is sent.
check "$event" clear-log
if remediate bad-pair "$event" -e remediate_classification=FalsePositive -e remediate_determination=Malware; then
  echo "an invalid classification / determination pair was accepted"; exit 1
fi
grep -q "FalsePositive / determination Malware" "$out/bad-pair.log" || { tail -20 "$out/bad-pair.log"; exit 1; }
check "$event" no-writes
# Check mode: everything is read, nothing written.
remediate check "$event" -e remediate_block=true --check || { tail -40 "$out/check.log"; exit 1; }
check "$event" no-writes
# For real, with the classification and determination chosen.
remediate remediate "$event" -e remediate_block=true \
  -e remediate_classification=TruePositive -e remediate_determination=Malware || { tail -40 "$out/remediate.log"; exit 1; }
check "$event" actions
check "$event" resolved TruePositive Malware
# The same event again: the alert is Resolved, nothing is done.
check "$event" clear-log
remediate again "$event" -e remediate_block=true \
  -e remediate_classification=TruePositive -e remediate_determination=Malware || { tail -40 "$out/again.log"; exit 1; }
check "$event" no-writes
check "$event" resolved TruePositive Malware
# Reopened by hand (as after a run that stopped between its comment and its status): the rerun finds the same
# actions, builds the same comment, finds it there, and sends only the status.
check "$event" reopen
check "$event" clear-log
remediate reopened "$event" -e remediate_block=true \
  -e remediate_classification=TruePositive -e remediate_determination=Malware || { tail -40 "$out/reopened.log"; exit 1; }
check "$event" resolve-only
check "$event" resolved TruePositive Malware
# A Linux device refuses StopAndQuarantineFile: the play fails, the alert stays InProgress with a comment naming it.
if remediate linux "$linux"; then echo "a refused quarantine did not fail the play"; exit 1; fi
grep -q "OsPlatformNotSupported" "$out/linux.log" || { tail -40 "$out/linux.log"; exit 1; }
check "$linux" failed
# The same event again: the same failure, the same comment, which is already there.
check "$linux" clear-log
if remediate linux-again "$linux"; then echo "a refused quarantine did not fail the play"; exit 1; fi
check "$linux" no-alert-writes
check "$linux" failed
# Release the devices again, so the targets after this one find them as they expect.
ansible-playbook secops.defender.incident_response -i ../../inventory -e "@${config}" \
  -e incident_release=true -e incident_poll_interval=1 \
  -e '{"incident_machines": ["{{ defender_machine_id }}", "{{ defender_linux_machine_id }}"]}' \
  > "$out/release.log" 2>&1 || { tail -30 "$out/release.log"; exit 1; }
