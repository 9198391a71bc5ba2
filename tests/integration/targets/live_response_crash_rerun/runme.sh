#!/usr/bin/env bash
# A crash mid-forensics: the collect_forensics role on ten devices is killed with SIGKILL (the play's whole process
# group) once sessions have started. The sessions then finish before the rerun. Since ansible-core 2.19 the worker
# (and so the module) has a session of its own and lives on: on a busy machine it may still be submitting and
# collecting while the rerun runs, into the same folders. The rerun must agree with it (one session per device,
# one copy of each file), so that is left as it is.
# The rerun must adopt every session it finds, fetch their evidence, and start sessions only for the devices
# that had none: the emulator's state and log must show one LiveResponse session per device, and every manifest
# must match its files. No timing is asserted; every wait is a bounded loop on the emulator's state.
set -eu
config=../../integration_config.yml
. ../setup_emulator/files/runme_lib.sh
emulator_only "$config" "it needs the emulator's state and log"
out="${OUTPUT_DIR:-$(mktemp -d)}/crash"
rm -rf "$out" && mkdir -p "$out"
python emulator.py "$config" seed "$out"
# Seven of the ten first POSTs are answered 429 with Retry-After: 8, so three sessions start at once and the other
# seven are sent again about when the rerun starts. On ansible-core 2.19 and later the first run's module then
# submits and collects beside the rerun every time, not only on a busy machine.
python emulator.py "$config" throttle 7 8
machines=$(cat "$out/machines.json")
echo "localhost ansible_connection=local ansible_python_interpreter=$(command -v python)" > "$out/inventory.ini"
play=(ansible-playbook -i "$out/inventory.ini" -e "@${config}" -e "{\"crash_machines\": $machines}"
      -e "crash_dest=$out/evidence" playbook.yml)

# The first run, in a process group of its own so that one SIGKILL takes the module down with the play.
setsid "${play[@]}" -e "crash_results=$out/first.json" > "$out/first.log" 2>&1 &
first=$!
python emulator.py "$config" wait-started 3 "$first" || { cat "$out/first.log"; exit 1; }
kill -9 -- "-$first" 2>/dev/null || kill -9 "$first"
wait "$first" 2>/dev/null || true
for _ in $(seq 1 120); do pgrep -g "$first" >/dev/null 2>&1 || break; sleep 0.5; done
started=$(python emulator.py "$config" count)
echo "killed after $started session(s) started"
[ ! -e "$out/first.json" ] || { echo "the first run finished before it was killed"; exit 1; }

python emulator.py "$config" finish
"${play[@]}" -e "crash_results=$out/rerun.json"
python emulator.py "$config" check "$out/rerun.json" "$started"
