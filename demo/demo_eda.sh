#!/usr/bin/env bash
# make demo-eda: an alert arrives and is remediated. Installs the collection from this working tree, starts the
# emulator, raises a high-severity alert with a file's SHA-1 on one device, lets the secops.defender.alerts event
# source pick it up (as ansible-rulebook would), and runs the rulebook's playbook on the event it produced.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/demo-output/eda"
rm -rf "$out"
mkdir -p "$out/collections"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$out/collections"
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
ansible-galaxy collection install --force -p "$out/collections" "$out"/secops-defender-*.tar.gz >/dev/null

mde-emulator --seed default --state-dir "$out/emulator" --info-file "$out/emulator/info.json" \
  >/dev/null 2>"$out/emulator.log" &
emulator=$!
trap 'kill $emulator 2>/dev/null || true; wait $emulator 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/emulator/info.json" ] && break; sleep 0.1; done
[ -s "$out/emulator/info.json" ] || { cat "$out/emulator.log"; echo "the emulator did not start"; exit 1; }

python demo/eda_event.py "$out"
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_LOCALHOST_WARNING=false
echo "== ansible-playbook secops.defender.remediate_alert (what the rulebook runs for this event)"
# shellcheck disable=SC1091
. "$out/connection.env"
ansible-playbook secops.defender.remediate_alert -e "@$out/event.json" \
  -e remediate_poll_interval=1 -e remediate_block=true > "$out/remediate.log" 2>&1 || { tail -30 "$out/remediate.log"; exit 1; }
grep -i -A4 "one line per device" "$out/remediate.log" | grep -v "^--$" | sed 's/^/   /'
python demo/eda_event.py "$out" summary
