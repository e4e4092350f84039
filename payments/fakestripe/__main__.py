"""``python -m payments.fakestripe --port 12111``: run the fake Stripe server in the foreground."""

from __future__ import annotations

import argparse
import signal
import threading

from .server import FakeStripe
from .webhooks import Endpoint


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m payments.fakestripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--public-url", help="the address browsers use, when it differs from host:port")
    parser.add_argument("--state", help="keep state in this JSON file across restarts")
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL=SECRET",
        help="deliver platform events to URL signed with SECRET (repeatable)",
    )
    parser.add_argument(
        "--connect-webhook",
        action="append",
        default=[],
        metavar="URL=SECRET",
        help="deliver connected accounts' events to URL signed with SECRET (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    endpoints = []
    for spec, connect in [(w, False) for w in args.webhook] + [(w, True) for w in args.connect_webhook]:
        url, sep, secret = spec.rpartition("=")
        if not sep or not url:
            parser.error(f"--webhook wants URL=SECRET, got {spec!r}")
        endpoints.append(Endpoint(url=url, secret=secret, connect=connect))

    fake = FakeStripe(
        host=args.host,
        port=args.port,
        webhooks=endpoints,
        state_path=args.state,
        public_url=args.public_url,
        verbose=args.verbose,
    )
    fake.start()
    print(f"Fake Stripe listening on {fake.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
