"""Delivers the mail outbox of a database, as the prober does after a run;
the child process that tests/test_mail_kill.py kills.

    python tests/outbox_child.py DATABASE_URI SMTP_HOST SMTP_PORT [--go]

Prints "READY" once the database is open, before it connects to the SMTP
server, and "DONE <sent> <failed> <in doubt>" when deliver_pending has
returned.  With --go it reads a line after READY, and delivers only if it
is "GO" (it exits at once otherwise, or when its stdin closes): the test
starts the next child while it lets the last deliver, and tops the outbox
up before it says GO.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from mirrorkeeper.database.store import open_store  # noqa: E402
from mirrorkeeper.mail.delivery import SMTPMailDelivery  # noqa: E402
from mirrorkeeper.mail.outbox import deliver_pending  # noqa: E402


def main():
    uri, host, port = sys.argv[1:4]
    store = open_store(uri)
    print("READY", flush=True)
    if sys.argv[4:] == ["--go"] and sys.stdin.readline() != "GO\n":
        store.close()
        return
    result = deliver_pending(
        store, SMTPMailDelivery(host, int(port), timeout=30))
    sent, failed = result
    print("DONE %d %d %d" % (sent, failed, len(result.in_doubt)),
          flush=True)
    store.close()


if __name__ == "__main__":
    main()
