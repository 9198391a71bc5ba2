#!/usr/bin/env bash
# Make ansible-test's SSH key pair (~/.ansible/test/id_rsa and .pub) once, before the lanes start. Each
# `ansible-test integration` makes it on first use when it is missing, so on a fresh HOME the two integration lanes
# both ran ssh-keygen at the same moment and the second one failed ("ssh-keygen -m PEM -q -t rsa -N '' -f
# /root/.ansible/test/id_rsa returned exit status 1"), failing its whole lane. The pair is made the way ansible-test
# makes it (core_ci.SshKey.generate_key_pair), so ansible-test takes it as its own; an existing pair is left alone.
set -euo pipefail
dir="$HOME/.ansible/test"
mkdir -p "$dir"
exec 9>"$dir/.seed-ssh-key.lock"
flock 9  # another suite on this HOME may be making it right now
[ -f "$dir/id_rsa" ] && [ -f "$dir/id_rsa.pub" ] && exit 0
work=$(mktemp -d "$dir/.ssh-key.XXXXXX")
trap 'rm -rf "$work"' EXIT
ssh-keygen -m PEM -q -t rsa -N '' -f "$work/id_rsa"
# As ansible-test does: paramiko does not read the PKCS#8 header that newer ssh-keygen writes.
sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$work/id_rsa"
# The public half first: ansible-test takes the pair only when both are there.
mv "$work/id_rsa.pub" "$dir/id_rsa.pub"
mv "$work/id_rsa" "$dir/id_rsa"
