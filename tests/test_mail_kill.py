"""kill -9 during mail delivery never sends a message twice.

A child process delivers the outbox (tests/outbox_child.py) to a real SMTP
server on loopback that is slow to accept each message and slower still to
answer QUIT; it is killed with SIGKILL at seeded random moments, 20 times,
the outbox topped up before each start, then run to the end.  No
Message-ID may ever be accepted twice by the server.

Each message is committed as being sent just before the final "." of its
DATA, and as sent on the server's 250: a kill between the two leaves it in
doubt (the server may or may not have it), and it is not sent again.  So
at the end every message is either recorded as sent and accepted exactly
once, or in doubt and accepted once or not at all; at most one message is
in doubt per kill, and the last run reports each one.  How many kills
left a message in doubt is printed (pytest -s shows it).
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
from mirrorkeeper.mail.outbox import (
    OutboxMessage, in_doubt, pending, queue)
from tests.harness.smtp import SMTPServer

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "outbox_child.py")
SEED = 11
KILLS = 20
BATCH = 6            # messages pending at each start
DATA_DELAY = 0.05    # the server's pause before each 250 to DATA
QUIT_DELAY = 2.0     # and before answering QUIT
# Kills fall while messages are being sent (BATCH * DATA_DELAY, plus two
# commits and a round trip per message, longer on a loaded machine) and in
# the slow QUIT, always before the child could finish: the QUIT is not
# answered before QUIT_DELAY has passed since the last message.
LATEST_KILL = 0.75 * QUIT_DELAY
assert 2 * BATCH * DATA_DELAY < LATEST_KILL < QUIT_DELAY
# Once the child has sent QUIT every moment of its wait is alike: all it
# sent is recorded, and it only waits for the answer.  A kill drawn for
# later falls sooner, after a tenth of what was left of its draw.
IN_QUIT_SHRINK = 10


def make_message(number):
    message = EmailMessage()
    message["From"] = "mirrorkeeper <noreply@mirrors.example.org>"
    message["To"] = "Owner %d <owner%d@example.com>" % (number, number)
    message["Subject"] = "Message %d" % (number,)
    message["Message-ID"] = make_msgid("kill-%d" % number,
                                       domain="mirrors.example.org")
    message.set_content("Message number %d.\n" % (number,))
    return message


def start_child(database_uri, server, go=False):
    """The delivering child; with `go`, it waits for go(child) after its
    READY (see tests/outbox_child.py)."""
    return subprocess.Popen(
        [sys.executable, CHILD, database_uri, server.host, str(server.port)]
        + (["--go"] if go else []),
        stdin=subprocess.PIPE if go else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def go(child):
    child.stdin.write(b"GO\n")
    child.stdin.flush()


def read_line(child, timeout=30):
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline().decode() if ready else ""
    if not line:
        child.kill()
        _, errors = child.communicate()
        raise AssertionError("the delivering child said nothing: %s"
                             % errors.decode("utf-8", "replace"))
    return line.strip()


def quit_sent(server, connections_before):
    """Whether a connection opened since `connections_before` (a set of
    the server's connection numbers) has sent QUIT."""
    return any(event["event"] == "command" and event["verb"] == "QUIT"
               and event["connection"] not in connections_before
               for event in server.events())


def wait_to_kill(server, connections_before, ready, moment):
    """Wait until `moment` seconds after `ready` (a time.monotonic()); or,
    once the child has sent QUIT, a tenth of what is left of that wait
    (see IN_QUIT_SHRINK): the kill falls in the QUIT's wait all the
    same, as it would have at `moment`, for the QUIT is not answered
    before QUIT_DELAY."""
    while True:
        left = moment - (time.monotonic() - ready)
        if left <= 0:
            return
        if quit_sent(server, connections_before):
            time.sleep(left / IN_QUIT_SHRINK)
            return
        time.sleep(min(left, 0.01))


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
        # Each child is started while the one before it delivers, and
        # told to go once the outbox is topped up: its Python starts
        # meanwhile, not between the kills.
        following = start_child(database_uri, server, go=True)
        try:
            for kill in range(KILLS):
                child = following
                top_up()
                assert read_line(child) == "READY"
                connections = {event["connection"]
                               for event in server.events()}
                go(child)
                ready = time.monotonic()
                following = None
                if kill + 1 < KILLS:
                    following = start_child(database_uri, server, go=True)
                wait_to_kill(server, connections, ready,
                             rng.uniform(0, LATEST_KILL))
                child.send_signal(signal.SIGKILL)
                child.communicate()
                assert child.returncode == -signal.SIGKILL
        finally:
            if following is not None:
                following.kill()
                following.communicate()
        # Runs to the end, the last of them with nothing left to send.
        for _ in range(3):
            store.rollback()
            left = pending(store).count()
            store.rollback()
            child = start_child(database_uri, server)
            out, errors = child.communicate(timeout=120)
            assert child.returncode == 0, errors.decode("utf-8", "replace")
            done = out.decode().splitlines()[-1].split()
            assert done[0] == "DONE"
            last_run_in_doubt = int(done[3])
            if left == 0:
                break
        store.rollback()
        assert pending(store).count() == 0
        reported_in_doubt = [row.id for row in in_doubt(store)]
        outbox = list(store.find(OutboxMessage).order_by(OutboxMessage.id))
        store.close()
        received = server.messages
        events = server.events()

    assert len(outbox) == len(queued)
    counts = Counter(message.message_id for message in received)
    assert set(counts) <= set(queued)
    # Never twice, whatever the kill interrupted.
    assert {message_id: count for message_id, count in counts.items()
            if count > 1} == {}
    doubtful = []
    for row in outbox:
        message_id = row.as_message()["Message-ID"].strip()
        if row.date_sent is not None:
            assert counts[message_id] == 1, (message_id, row.last_error)
        else:
            # Neither sent nor left to send: in doubt, never sent again.
            assert row.is_in_doubt, (message_id, row.attempts,
                                     row.last_error)
            doubtful.append(row)
    # One message at most is at its final "." when a kill falls.
    assert len(doubtful) <= KILLS
    # The last run reported every one of them.
    assert last_run_in_doubt == len(doubtful)
    assert [row.id for row in doubtful] == sorted(reported_in_doubt)
    on_server = [row for row in doubtful
                 if counts[row.as_message()["Message-ID"].strip()] == 1]
    for row in on_server:
        # In doubt only because the kill came before the client could
        # record the server's 250: it said nothing after it.
        [copy] = [m for m in received if m.message_id
                  == row.as_message()["Message-ID"].strip()]
        assert server.commands_after(copy, events) == [], row.id
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
    before_quit = [c for c, seen in by_connection.items()
                   if "QUIT" not in seen]
    print("\n%d kills (%d before QUIT, %d in it), %d messages: %d in doubt "
          "(%d of them on the server, %d not), 0 accepted twice" % (
              KILLS, len(before_quit), len(in_quit), len(queued),
              len(doubtful), len(on_server), len(doubtful) - len(on_server)))
