"""kill -9 during mail delivery never sends a message twice.

A child process delivers the outbox (tests/outbox_child.py) to a real SMTP
server on loopback that is slow to accept each message and slower still to
answer QUIT; it is killed with SIGKILL at seeded random moments, 20 times,
the outbox topped up before each start, then run to the end.  Every
message must have been accepted by the server once, counted by Message-ID.

One duplicate is unavoidable for any SMTP client: a kill after the
server's 250 to the end of DATA and before the client's commit of
date_sent (the time of one commit).  So a message accepted twice passes
only if, on the connection that first delivered it, the client said
nothing more after that 250 (no next MAIL FROM, no QUIT): the kill fell
in that window.  Committing after QUIT, or after the next message, or
once at the end, shows up as a duplicate followed by a command.
"""

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from email.message import EmailMessage
from email.utils import make_msgid

from mirrorkeeper.database.store import open_store
from mirrorkeeper.mail.outbox import OutboxMessage, pending, queue
from tests.harness.smtp import SMTPServer

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "outbox_child.py")
SEED = 11
KILLS = 20
BATCH = 6            # messages pending at each start
DATA_DELAY = 0.05    # the server's pause before each 250 to DATA
QUIT_DELAY = 2.0     # and before answering QUIT
# Kills fall as often while messages are being sent as in the slow QUIT,
# always before the child could finish.
LATEST_KILL = 2 * BATCH * DATA_DELAY + 0.1
assert LATEST_KILL < QUIT_DELAY


def make_message(number):
    message = EmailMessage()
    message["From"] = "mirrorkeeper <noreply@mirrors.example.org>"
    message["To"] = "Owner %d <owner%d@example.com>" % (number, number)
    message["Subject"] = "Message %d" % (number,)
    message["Message-ID"] = make_msgid("kill-%d" % number,
                                       domain="mirrors.example.org")
    message.set_content("Message number %d.\n" % (number,))
    return message


def start_child(database_uri, server):
    return subprocess.Popen(
        [sys.executable, CHILD, database_uri, server.host, str(server.port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_line(child, timeout=30):
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline().decode() if ready else ""
    if not line:
        child.kill()
        _, errors = child.communicate()
        raise AssertionError("the delivering child said nothing: %s"
                             % errors.decode("utf-8", "replace"))
    return line.strip()


def test_kill_9_never_sends_a_message_twice(database_uri):
    rng = random.Random(SEED)
    store = open_store(database_uri)
    queued = []

    def top_up():
        store.rollback()
        for _ in range(BATCH - pending(store).count()):
            message = make_message(len(queued) + 1)
            queue(store, message)
            queued.append(message["Message-ID"])
        # Nothing of ours stays open while the child writes (SQLite locks).
        store.commit()

    with SMTPServer(quit_delay=QUIT_DELAY, data_delay=DATA_DELAY) as server:
        for _ in range(KILLS):
            top_up()
            child = start_child(database_uri, server)
            assert read_line(child) == "READY"
            time.sleep(rng.uniform(0, LATEST_KILL))
            child.send_signal(signal.SIGKILL)
            child.communicate()
            assert child.returncode == -signal.SIGKILL
        for _ in range(3):
            store.rollback()
            if pending(store).count() == 0:
                break
            store.rollback()
            child = start_child(database_uri, server)
            out, errors = child.communicate(timeout=120)
            assert child.returncode == 0, errors.decode("utf-8", "replace")
            assert out.decode().splitlines()[-1].startswith("DONE ")
        store.rollback()
        outbox = list(store.find(OutboxMessage))
        store.close()
        received = server.messages
        events = server.events()

    assert len(outbox) == len(queued)
    assert [row for row in outbox if row.date_sent is None] == []
    counts = Counter(message.message_id for message in received)
    assert set(counts) == set(queued)
    for message_id, count in counts.items():
        if count == 1:
            continue
        first = [m for m in received if m.message_id == message_id][0]
        said = server.commands_after(first, events)
        assert count == 2 and said == [], (
            "%s was accepted %d times; after its first acceptance the "
            "client said %s on that connection, so it had not recorded "
            "the message as sent before going on"
            % (message_id, count, said))

    # The dangerous moments were hit: kills while messages were being sent
    # and kills while the server held back its answer to QUIT.
    by_connection = {}
    for event in events:
        by_connection.setdefault(event["connection"], []).append(
            event["verb"] if event["event"] == "command" else event["event"])
    in_quit = [c for c, seen in by_connection.items()
               if "QUIT" in seen and "quit answered" not in seen]
    mid_delivery = [c for c, seen in by_connection.items()
                    if "accepted" in seen and "QUIT" not in seen]
    assert len(in_quit) >= 1 and len(mid_delivery) >= 1, by_connection
