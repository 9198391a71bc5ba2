"""Command line: mde-emulator (or python -m mde_emulator) --seed default|demo|seed.json [--port N] [--blob-port N]
[--state-dir DIR] [--info-file FILE] [--env-file FILE [--env-app APP]] [--settings JSON]."""

import argparse
import json
import signal
import sys
import threading

from .rehearsal import RehearsalError, choose_app, write_env_file
from .seeding import load_seed
from .server import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mde-emulator", description=__doc__)
    parser.add_argument("--seed", help="a packaged seed (default, demo) or a seed file (JSON or YAML): apps, "
                                       "machines, library, scripts, settings")
    parser.add_argument("--port", type=int, default=0, help="API and sign-in port (0: any free port)")
    parser.add_argument("--blob-port", type=int, default=0, help="blob host port (0: any free port)")
    parser.add_argument("--state-dir", help="where the CA (ca.pem, ca-key.pem) is kept: one already there is used "
                                            "again, so clients that trust it keep trusting restarts (default: a new "
                                            "temporary folder, and a new CA)")
    parser.add_argument("--info-file", help="also write the start-up JSON to this file")
    parser.add_argument("--env-file", help="write the connection as the DEFENDER_* variables secops.defender reads, "
                                           "one NAME=value a line, for `set -a; . FILE; set +a` or docker's "
                                           "--env-file (mode 0600: it holds the app's secret)")
    parser.add_argument("--env-app", help="the app --env-file connects as, by client id or name (default: the "
                                          "seed's first app with a client secret)")
    parser.add_argument("--settings", help="settings as JSON, over the seed's (for example a documented variant: "
                                           "'{\"getfile_encoding\": \"raw\"}')")
    args = parser.parse_args(argv)
    seed = load_seed(args.seed) if args.seed else {}
    if args.settings:
        seed["settings"] = dict(seed.get("settings") or {}, **json.loads(args.settings))
    emulator = Emulator(seed, state_dir=args.state_dir)
    if args.env_file:  # before anything listens: a wrong --env-app stops here
        try:
            env_app = choose_app(emulator.app_credentials(), args.env_app)
        except RehearsalError as exc:
            parser.error("--env-file: %s" % exc)
    emulator.start(args.port, args.blob_port)
    info = json.dumps(emulator.info())
    if args.env_file:  # before the info file, which callers wait for
        quoted = write_env_file(args.env_file, emulator.info(), env_app, emulator.state_dir)
        if quoted:
            print("mde-emulator: %s: %s quoted for a shell; docker's --env-file would keep the quotes"
                  % (args.env_file, ", ".join(quoted)), file=sys.stderr)
    if args.info_file:
        with open(args.info_file, "w") as handle:
            handle.write(info + "\n")
    print(info, flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
