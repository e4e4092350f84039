"""``make run``: services, migrations, demo data, then web + worker + beat together.

Ctrl-C stops the web server, the worker and beat (honcho's manager), then the embedded
Redis and PostgreSQL if this process started them.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from honcho.manager import Manager
from honcho.printer import Printer

from .embedded import ROOT, services

DEMO_LINES = """
  Practica is running at http://{host}:{port}/

  Demo sign-in (password for every account: practica-demo)
    owner@harbour.example       owner of Harbour Street Therapy
    admin@harbour.example       admin
    biller@harbour.example      biller
    clinician1@harbour.example  clinician (also clinician2@, clinician3@)
    owner@kowhai.example        owner of Kowhai Counselling

  Client portal: http://{host}:{port}/portal/ (no password: a sign-in link by email)
    charlotte.carter@clients.example  a Harbour Street client with two unpaid invoices;
    ask for a link, then follow it from the Outbox.

  Emails are not sent: read them, and follow their links, in the Outbox at
  http://{host}:{port}/dev/outbox/ (set EMAIL_URL to send them through a mail server).

  Press Ctrl-C to stop everything.
"""


FAKE_STRIPE_PORT = 12111
FAKE_STRIPE_STATE = ROOT / ".run" / "fakestripe.json"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _fake_stripe_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "payments.fakestripe",
        "--host",
        host,
        "--port",
        str(port),
        "--state",
        str(FAKE_STRIPE_STATE),
    ]


@contextmanager
def _fake_stripe_for_setup(host: str, port: int, env: dict[str, str]) -> Iterator[None]:
    """The fake, running while the demo data connects Harbour Street to it (its state file
    keeps the account for the honcho process that serves it afterwards)."""
    proc = subprocess.Popen(_fake_stripe_command(host, port), env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while _port_free(host, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake Stripe did not start")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    py = shlex.quote(sys.executable)
    with services() as env:
        env.setdefault("DJANGO_ENV", "development")
        env.setdefault("SITE_URL", f"http://{host}:{port}")
        # Without Stripe keys, payments go to the fake Stripe (a honcho process beside web).
        fake_port = None
        if not env.get("STRIPE_SECRET_KEY"):
            fake_port = int(env.get("FAKE_STRIPE_PORT", FAKE_STRIPE_PORT))
            if not _port_free(host, fake_port):
                with socket.socket() as sock:
                    sock.bind((host, 0))
                    fake_port = sock.getsockname()[1]
            env["STRIPE_API_BASE"] = f"http://{host}:{fake_port}"
            env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_demo_platform")
            env.setdefault("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_demo_connect")
            FAKE_STRIPE_STATE.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], env=env, cwd=ROOT, check=True)
        if fake_port is None:
            subprocess.run([sys.executable, "manage.py", "demo_data"], env=env, cwd=ROOT, check=True)
        else:
            with _fake_stripe_for_setup(host, fake_port, env):
                subprocess.run([sys.executable, "manage.py", "demo_data"], env=env, cwd=ROOT, check=True)
        print(DEMO_LINES.format(host=host, port=port), flush=True)
        manager = Manager(Printer(sys.stdout))
        manager.add_process(
            "web",
            f"{py} -m gunicorn practice.wsgi:application --bind {host}:{port} --workers 2 "
            "--reload --access-logfile - --graceful-timeout 5",
            env=env,
            cwd=str(ROOT),
        )
        manager.add_process(
            "worker",
            f"{py} -m celery -A practice worker -Q celery,billing,autopay -l info --concurrency 2",
            env=env,
            cwd=str(ROOT),
        )
        manager.add_process("beat", f"{py} -m celery -A practice beat -l info", env=env, cwd=str(ROOT))
        if fake_port is not None:
            print(f"  Test mode: payments go to a simulated Stripe at {env['STRIPE_API_BASE']}\n", flush=True)
            # The served fake signs its events and delivers them to the app's webhook endpoint.
            hook = f"http://{host}:{port}/stripe/webhook/"
            command = [
                *_fake_stripe_command(host, fake_port),
                "--webhook",
                f"{hook}={env['STRIPE_WEBHOOK_SECRET']}",
                "--connect-webhook",
                f"{hook}={env['STRIPE_CONNECT_WEBHOOK_SECRET']}",
            ]
            manager.add_process("stripe", shlex.join(command), env=env, cwd=str(ROOT))
        manager.loop()
        return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
