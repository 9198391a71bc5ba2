#!/usr/bin/env bash
# The GitOps example (examples/gitops) the way its README runs it: ansible-playbook --check --diff on a pull
# request, then the apply on merge, then a rerun. Each is checked from the emulator's request log and state (no write
# in check mode, a diff per kind, the desired state reached, nothing outside the library scope touched, no write on
# the rerun). The emulator's seed names the example's devices, so this runs on the emulator only.
set -eu
config=../../integration_config.yml
python gitops_check.py "$config" on-emulator || { echo "gitops_example runs against the emulator only; skipped"; exit 0; }
# The connection in DEFENDER_* variables, as AWX injects a credential.
eval "$(python ../setup_emulator/files/connection_env.py "$config")"
out="${OUTPUT_DIR:-$(mktemp -d)}/gitops"
rm -rf "$out"
mkdir -p "$out"
# A copy of the example as a user would have it in their repository.
cp -R "$(python gitops_check.py "$config" example-dir)" "$out/repo"
run() {
  ansible-playbook -i "$out/repo/inventory.yml" "$@"
}
cleanup() {
  run cleanup.yml -e "gitops_repo=$out/repo" >"$out/cleanup.log" 2>&1 || tail -30 "$out/cleanup.log"
  python gitops_check.py "$config" normal-clock
}
trap cleanup EXIT
python gitops_check.py "$config" fast-clock
run prepare.yml -e "gitops_repo=$out/repo" >"$out/prepare.log" 2>&1 || { tail -40 "$out/prepare.log"; exit 1; }
python gitops_check.py "$config" snapshot "$out/before.json"

run "$out/repo/site.yml" --check --diff >"$out/check.log" 2>&1 || { tail -60 "$out/check.log"; exit 1; }
python gitops_check.py "$config" checked "$out/check.log" || { cat "$out/check.log"; exit 1; }

python gitops_check.py "$config" clear-log
GITOPS_REVISION=abc1234 run "$out/repo/site.yml" --diff >"$out/apply.log" 2>&1 || { tail -60 "$out/apply.log"; exit 1; }
python gitops_check.py "$config" applied "$out/apply.log" "$out/before.json" "$out/repo" || { cat "$out/apply.log"; exit 1; }

python gitops_check.py "$config" clear-log
run "$out/repo/site.yml" >"$out/rerun.log" 2>&1 || { tail -60 "$out/rerun.log"; exit 1; }
python gitops_check.py "$config" rerun "$out/rerun.log" || { cat "$out/rerun.log"; exit 1; }
echo "gitops example checks out"
