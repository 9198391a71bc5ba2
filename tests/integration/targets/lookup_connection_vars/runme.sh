#!/usr/bin/env bash
# The machine_ids lookup with its connection set once per play, in variables (defender_connection and
# defender_<option>), and nothing in the environment: every DEFENDER_* and AZURE_* variable is unset first.
set -eu
for name in $(env | sed -n 's/^\(DEFENDER_[A-Z_]*\|AZURE_[A-Z_]*\)=.*/\1/p'); do unset "$name"; done
ansible-playbook -i localhost, -c local lookup_vars.yml -e @../../integration_config.yml \
  -e "ansible_python_interpreter=$(command -v python)" "$@"
