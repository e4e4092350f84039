"""``make run``: services, migrations, demo data, then web + worker + beat together.

Ctrl-C stops the web server, the worker and beat (honcho's manager), then the embedded
Redis and PostgreSQL if this process started them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

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

  Emails are not sent: read them, and follow their links, in the Outbox at
  http://{host}:{port}/dev/outbox/ (set EMAIL_URL to send them through a mail server).

  Press Ctrl-C to stop everything.
"""


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    py = shlex.quote(sys.executable)
    with services() as env:
        env.setdefault("DJANGO_ENV", "development")
        env.setdefault("SITE_URL", f"http://{host}:{port}")
        for step in (["migrate", "--noinput"], ["demo_data"]):
            subprocess.run([sys.executable, "manage.py", *step], env=env, cwd=ROOT, check=True)
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
            "worker", f"{py} -m celery -A practice worker -l info --concurrency 2", env=env, cwd=str(ROOT)
        )
        manager.add_process("beat", f"{py} -m celery -A practice beat -l info", env=env, cwd=str(ROOT))
        manager.loop()
        return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
