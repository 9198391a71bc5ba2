"""Command line: mde-emulator (or python -m mde_emulator) --seed default|demo|seed.json [--port N] [--blob-port N]
[--state-dir DIR] [--info-file FILE] [--settings JSON]."""

import argparse
import json
import signal
import sys
import threading

from .seeding import load_seed
from .server import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mde-emulator", description=__doc__)
    parser.add_argument("--seed", help="a packaged seed (default, demo) or a seed file (JSON or YAML): apps, "
                                       "machines, library, scripts, settings")
    parser.add_argument("--port", type=int, default=0, help="API and sign-in port (0: any free port)")
    parser.add_argument("--blob-port", type=int, default=0, help="blob host port (0: any free port)")
    parser.add_argument("--state-dir", help="where to write the CA file (default: a new temporary folder)")
    parser.add_argument("--info-file", help="also write the start-up JSON to this file")
    parser.add_argument("--settings", help="settings as JSON, over the seed's (for example a documented variant: "
                                           "'{\"getfile_encoding\": \"raw\"}')")
    args = parser.parse_args(argv)
    seed = load_seed(args.seed) if args.seed else {}
    if args.settings:
        seed["settings"] = dict(seed.get("settings") or {}, **json.loads(args.settings))
    emulator = Emulator(seed, state_dir=args.state_dir).start(args.port, args.blob_port)
    info = json.dumps(emulator.info())
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
