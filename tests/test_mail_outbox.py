"""The outbox: mail queued with the transaction that decides to send it,
delivered after commit to a real SMTP server, retried when the server is
down, and addressed one message per recipient."""

import socket
import time
from email.message import EmailMessage

import pytest
from zope.component import getUtility

from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.mail.delivery import SMTPMailDelivery
from mirrorkeeper.mail.notifications import LOG_LINES_QUOTED
from mirrorkeeper.mail.outbox import (
    MAX_ATTEMPTS, OutboxMessage, deliver_pending, in_doubt, mark_sent,
    pending, queue, resend)
from tests.rollback_stores import (  # noqa: F401
    rollback_sample_store, rollback_store,
    shared_empty_store, shared_sample_store)


@pytest.fixture
def smtp(smtp_server):
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def delivery(smtp):
    return SMTPMailDelivery(smtp.host, smtp.port, timeout=10)


@pytest.fixture
def down():
    """A delivery to a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return SMTPMailDelivery("127.0.0.1", port, timeout=5)


def message(to="Jane <jane@example.com>", subject="Hello"):
    mail = EmailMessage()
    mail["From"] = "mirrorkeeper <noreply@example.org>"
    if to is not None:
        mail["To"] = to
    mail["Subject"] = subject
    mail.set_content("Body of %s.\n" % subject)
    return mail


def outbox(store):
    return list(store.find(OutboxMessage).order_by(OutboxMessage.id))


def test_rolled_back_mail_is_not_pending(rollback_store):
    """A message queued in a transaction that is rolled back is gone."""
    queue(rollback_store, message())
    assert pending(rollback_store).count() == 1
    rollback_store.rollback()
    assert pending(rollback_store).count() == 0
    assert outbox(rollback_store) == []


def test_committed_mail_is_pending(store):
    """A message queued and committed waits in the outbox, unsent, with no
    attempt yet, and reads back as the message queued."""
    queue(store, message(subject="Kept"))
    store.commit()
    [waiting] = list(pending(store))
    assert (waiting.attempts, waiting.date_sent, waiting.last_error) == (
        0, None, None)
    assert waiting.as_message()["Subject"] == "Kept"
    assert waiting.as_message().get_content().replace("\r\n", "\n") == (
        "Body of Kept.\n")


def test_queued_body_reads_back_with_its_own_line_endings(rollback_store):
    """The body of a queued message reads back with the line endings it
    was written with."""
    queue(rollback_store, message(subject="Kept"))
    [waiting] = list(pending(rollback_store))
    assert waiting.as_message().get_content() == "Body of Kept.\n"


def test_deliver_pending(store, smtp, delivery):
    """Pending messages reach the SMTP server once each and are marked
    sent; a second run sends nothing."""
    queue(store, message(subject="First"))
    queue(store, message(to="Joe <joe@example.net>", subject="Second"))
    store.commit()
    assert deliver_pending(store, delivery) == (2, 0)
    received = smtp.wait_for(2)
    assert [(m.rcpt_to, m.subject) for m in received] == [
        (["jane@example.com"], "First"), (["joe@example.net"], "Second")]
    assert received[0].body == "Body of First.\n"
    store.rollback()
    for sent in outbox(store):
        assert sent.date_sent is not None
        assert sent.attempts == 1
        assert sent.last_error is None
    assert pending(store).count() == 0
    assert deliver_pending(store, delivery) == (0, 0)
    assert len(smtp.messages) == 2


def test_server_down(store, down):
    """When the server cannot be reached the failure is recorded on the
    message, each attempt counted and committed, and it stays pending."""
    queue(store, message())
    store.commit()
    assert deliver_pending(store, down) == (0, 1)
    assert deliver_pending(store, down) == (0, 1)
    store.rollback()
    [waiting] = outbox(store)
    assert waiting.attempts == 2
    assert waiting.date_sent is None
    assert waiting.last_error.startswith("cannot reach SMTP server 127.0.0.1")
    assert list(pending(store)) == [waiting]


def test_delivered_once_server_is_back(store, down, delivery, smtp):
    """A message that failed is sent by a later run, which clears the
    error."""
    queue(store, message())
    store.commit()
    deliver_pending(store, down)
    assert deliver_pending(store, delivery) == (1, 0)
    smtp.wait_for(1)
    [sent] = outbox(store)
    assert (sent.attempts, sent.last_error) == (2, None)
    assert sent.date_sent is not None


def test_max_attempts_stops_retries(store, down):
    """A message that failed MAX_ATTEMPTS times is no longer pending and no
    longer tried."""
    queue(store, message())
    store.commit()
    [waiting] = outbox(store)
    waiting.attempts = MAX_ATTEMPTS - 1
    store.commit()
    assert deliver_pending(store, down) == (0, 1)
    assert waiting.attempts == MAX_ATTEMPTS
    assert pending(store).count() == 0
    assert deliver_pending(store, down) == (0, 0)
    store.rollback()
    assert outbox(store)[0].attempts == MAX_ATTEMPTS


def test_one_failure_does_not_stop_the_others(store, delivery, smtp):
    """A message the delivery refuses is recorded as failed and the next
    one is still sent."""
    queue(store, message(to=None, subject="Nobody"))
    queue(store, message(subject="Somebody"))
    store.commit()
    assert deliver_pending(store, delivery) == (1, 1)
    [received] = smtp.wait_for(1)
    assert received.subject == "Somebody"
    failed, sent = outbox(store)
    assert "no To, Cc or Bcc" in failed.last_error
    assert failed.date_sent is None and sent.date_sent is not None


def test_partly_refused_message_is_sent_once(store):
    """A message the server took for some recipients and refused for others
    is recorded as sent, with the refusal as its last error, and is not
    sent again."""
    from tests.harness.smtp import SMTPServer
    with SMTPServer(refuse=["gone@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port, timeout=10)
        queue(store, message(to="gone@example.com, Jane <jane@example.com>"))
        store.commit()
        assert deliver_pending(store, delivery) == (1, 0)
        assert deliver_pending(store, delivery) == (0, 0)
        [received] = server.wait_for(1)
        assert received.rcpt_to == ["jane@example.com"]
    store.rollback()
    [sent] = outbox(store)
    assert sent.date_sent is not None
    assert "refused gone@example.com" in sent.last_error


def test_refused_end_of_data_is_retried(store):
    """A message whose final "." the server refused is a failure like any
    other: not in doubt, still pending, sent by a later run."""
    from tests.harness.smtp import SMTPServer
    queue(store, message(subject="Refused"))
    store.commit()
    with SMTPServer(refuse_data=["jane@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port, timeout=10)
        result = deliver_pending(store, delivery)
        assert result == (0, 1) and result.in_doubt == []
    store.rollback()
    [waiting] = outbox(store)
    assert (waiting.date_sending, waiting.date_sent) == (None, None)
    assert "answered 550" in waiting.last_error
    assert list(pending(store)) == [waiting]
    assert list(in_doubt(store)) == []


def test_no_answer_to_end_of_data_leaves_the_message_in_doubt(
        store, smtp, caplog):
    """A message whose final "." was sent and never answered is in doubt:
    not counted as sent or failed, reported (in the result and in a
    warning saying how to send it again), and never sent again by
    itself; resend() lets the next run send it."""
    from tests.harness.smtp import SMTPServer
    queue(store, message(subject="Doubtful"))
    queue(store, message(to="Joe <joe@example.net>", subject="Fine"))
    store.commit()
    with SMTPServer(data_delay=2) as silent:
        delivery = SMTPMailDelivery(silent.host, silent.port, timeout=0.5)
        with caplog.at_level("WARNING", logger="mirrorkeeper.mail.outbox"):
            result = deliver_pending(store, delivery)
        time.sleep(2.5)
        # It had gone before the server answered: the server kept nothing.
        assert silent.messages == []
    # Both were handed over and not answered; each is in doubt.
    assert result == (0, 0)
    doubtful, fine = result.in_doubt
    assert (doubtful.recipients, doubtful.subject) == (
        ["jane@example.com"], "Doubtful")
    assert doubtful.message_id.endswith("@example.org>")
    warnings = [r.getMessage() for r in caplog.records
                if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert ("Outbox message %d (to jane@example.com, 'Doubtful', "
            "Message-ID %s) may or may not have been delivered"
            % (doubtful.id, doubtful.message_id)) in warnings[0]
    assert ("UPDATE mail_outbox SET date_sending = NULL WHERE id = %d;"
            % doubtful.id) in warnings[0]
    store.rollback()
    first, second = outbox(store)
    assert first.is_in_doubt and first.attempts == 1
    assert "may or may not have taken the message" in first.last_error
    assert pending(store).count() == 0
    assert [row.id for row in in_doubt(store)] == [first.id, second.id]

    # Never sent again by itself, and reported again.
    caplog.clear()
    again = deliver_pending(store, SMTPMailDelivery(smtp.host, smtp.port))
    assert again == (0, 0) and len(again.in_doubt) == 2
    assert len(caplog.records) == 2
    assert smtp.messages == []

    # A person found the first not on the server, the second on it.
    resend(store, first.id)
    mark_sent(store, second.id)
    store.commit()
    assert second.date_sent == second.date_sending
    result = deliver_pending(store, SMTPMailDelivery(smtp.host, smtp.port))
    assert result == (1, 0) and result.in_doubt == []
    [received] = smtp.wait_for(1)
    assert received.subject == "Doubtful"
    with pytest.raises(ValueError, match="is not in doubt"):
        resend(store, first.id)


def test_queue_gives_a_message_id(rollback_store):
    """A message queued without a Message-ID gets one, kept with it, so
    every copy ever sent carries the same."""
    queue(rollback_store, message())
    [waiting] = outbox(rollback_store)
    assert waiting.as_message()["Message-ID"].strip().endswith(
        "@example.org>")


def disabled_mail(store, smtp, delivery, mirror_name, log):
    mirror = getUtility(IDistributionMirrorSet)[mirror_name]
    mirror.disableAndNotifyOwner(log=log)
    store.commit()
    count = pending(store).count()
    assert deliver_pending(store, delivery) == (count, 0)
    return sorted(smtp.wait_for(count), key=lambda m: m.rcpt_to)


def test_admin_who_owns_the_mirror_gets_one_message(sample_store, smtp,
                                                    delivery):
    """Disabling a mirror whose owner is also a mirror admin sends one
    message to the owner and one to the other admin, not three."""
    received = disabled_mail(sample_store, smtp, delivery, "valid-mirror",
                             "GET dists/warty/Release -> 404\n")
    assert [m.rcpt_to for m in received] == [["foo.bar@example.com"],
                                             ["mark@example.com"]]
    foo, mark = received
    assert mark.subject == foo.subject == (
        "mirrorkeeper: the Ubuntu mirror valid-mirror has been disabled")
    assert mark.message["To"] == "Mark Shuttleworth <mark@example.com>"
    assert "as the owner of the mirror valid-mirror" in mark.body
    assert "as a mirror admin of Ubuntu" in foo.body
    assert "Dear Foo Bar," in foo.body
    assert "    GET dists/warty/Release -> 404" in mark.body


def test_one_message_per_recipient(sample_store, smtp, delivery):
    """An owner who is no admin and each admin get a message of their
    own."""
    received = disabled_mail(sample_store, smtp, delivery, "new-mirror",
                             "probe log\n")
    assert [m.rcpt_to for m in received] == [
        ["foo.bar@example.com"], ["mark@example.com"], ["test@example.com"]]
    assert all(len(m.rcpt_to) == 1 for m in received)


def test_message_quotes_first_lines_of_log(sample_store, smtp, delivery):
    """The message quotes the first lines of the log, not the rest."""
    log = "".join("log line %d\n" % n for n in range(1, 41))
    received = disabled_mail(sample_store, smtp, delivery, "valid-mirror",
                             log)
    body = received[0].body
    assert "    log line %d\n" % LOG_LINES_QUOTED in body
    assert "log line %d\n" % (LOG_LINES_QUOTED + 1) not in body


def test_disable_rolled_back_sends_nothing(rollback_sample_store):
    """Disabling a mirror in a transaction that is rolled back queues no
    mail and leaves the mirror enabled."""
    mirror = getUtility(IDistributionMirrorSet)["valid-mirror"]
    mirror.disableAndNotifyOwner(log="gone\n")
    assert pending(rollback_sample_store).count() == 2
    rollback_sample_store.rollback()
    assert pending(rollback_sample_store).count() == 0
    assert mirror.enabled is True


class _Racing:
    """A delivery whose first message's commit point is followed, before
    its final ".", by another process's whole delivery (`other()`): the
    web daemon and the prober delivering the outbox at the same time."""

    def __init__(self, delivery, other):
        self.delivery = delivery
        self.other = other

    def session(self):
        racing = self
        inner = self.delivery.session()

        class Session:
            def __enter__(self):
                inner.__enter__()
                return self

            def __exit__(self, *exc_info):
                return inner.__exit__(*exc_info)

            def send(self, message, before_commit_point=None):
                def commit_point():
                    before_commit_point()
                    other, racing.other = racing.other, None
                    if other is not None:
                        other()
                return inner.send(message, before_commit_point=commit_point)

        return Session()


def test_two_processes_delivering_at_once_send_each_message_once(
        database_uri, smtp, delivery):
    """Two processes read the same pending messages; while the first
    sends the first message, the second delivers the rest.  Each message
    reaches the server once."""
    from mirrorkeeper.database.store import open_store
    first, second = open_store(database_uri), open_store(database_uri)
    try:
        for n in range(3):
            queue(first, message(subject="Race %d" % n))
        first.commit()
        result = deliver_pending(first, _Racing(delivery, lambda: (
            deliver_pending(second, delivery), second.commit())))
        subjects = sorted(m.subject for m in smtp.messages)
        assert subjects == ["Race 0", "Race 1", "Race 2"]
        assert result.sent == 1
        assert pending(first).count() == 0
        assert [m.date_sent is not None for m in outbox(first)] == \
            [True] * 3
    finally:
        first.close()
        second.close()
