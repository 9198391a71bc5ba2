#!/usr/bin/env bash
# Run every kind of call at -vvvv (sign-in, waits, a live response with result links, a failed sign-in, an
# explicit access token) and fail if any secret, token, SAS query or Authorization header shows in the output.
set -eu
config=../../integration_config.yml
out="${OUTPUT_DIR:-$(mktemp -d)}/vvvv.log"
# Start from an empty token cache, so every token in it afterwards was handled by this run.
cache_dir=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["defender_auth"]["token_cache_dir"])' "$config")
rm -f "$cache_dir/tokens.json"
# ansible-core 2.21 returns a module's `invocation` (its arguments) only when asked to; ask, so the arguments
# show and the check below proves their secrets are masked. Older releases always return it and ignore this.
export ANSIBLE_INJECT_INVOCATION=true
set +e
ansible-playbook -vvvv -i ../../inventory -e "@${config}" -e "evidence_dir=${OUTPUT_DIR:-/tmp}/evidence" \
  playbook.yml >"$out" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  tail -50 "$out"
  echo "the -vvvv playbook failed (exit $rc)"
  exit 1
fi
python check_output.py "$config" "$out"
