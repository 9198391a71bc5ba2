"""Stand-in for the pip bootstrap script ansible-test downloads, for machines that can't reach its host.

ansible-test runs it as: python get_pip.py --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel,
with PIP_CONFIG_FILE=/dev/null, which hides the machine's pip configuration (and the CA bundle it names).
So: bootstrap pip with ensurepip, give the configuration back, and install what was asked for.
"""

import os
import subprocess
import sys

IGNORED = ("--no-setuptools", "--no-wheel")


def main():
    env = dict(os.environ)
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        del env["PIP_CONFIG_FILE"]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], env=env)
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)


if __name__ == "__main__":
    main()
