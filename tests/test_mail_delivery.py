"""SMTPMailDelivery, delivering to a real SMTP server on loopback."""

import socket
import time
import ssl
from email.message import EmailMessage

import pytest
from zope.interface.verify import verifyObject

from mirrorkeeper.errors import MirrorKeeperError
from mirrorkeeper.interfaces.mail import IMailDelivery, MailDeliveryError
from mirrorkeeper.mail.delivery import SMTPMailDelivery, envelope_recipients
from tests.harness.smtp import SMTPServer


@pytest.fixture(scope="module")
def server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def empty(request):
    if "server" in request.fixturenames:
        request.getfixturevalue("server").clear()


def make_message(**headers):
    message = EmailMessage()
    message["From"] = "Mirror prober <noreply@mirrors.example.org>"
    message["To"] = "Jane Owner <jane@example.com>"
    message["Subject"] = "Mirror valid-mirror disabled"
    for name, value in headers.items():
        del message[name]
        if value is not None:
            message[name] = value
    message.set_content("The prober could not reach your mirror.\n"
                        "Log:\n  connection refused\n")
    return message


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_provides_interface(server):
    """SMTPMailDelivery provides IMailDelivery."""
    assert verifyObject(IMailDelivery,
                        SMTPMailDelivery(server.host, server.port))


def test_sends_message(server):
    """The server receives the message with the From address as envelope
    sender, the To address as recipient, and the headers and body intact."""
    SMTPMailDelivery(server.host, server.port).send(make_message())
    [received] = server.wait_for(1)
    assert received.mail_from == "noreply@mirrors.example.org"
    assert received.rcpt_to == ["jane@example.com"]
    assert received.message["To"] == "Jane Owner <jane@example.com>"
    assert received.subject == "Mirror valid-mirror disabled"
    assert received.body == ("The prober could not reach your mirror.\n"
                             "Log:\n  connection refused\n")


def test_envelope_from_to_cc_and_bcc(server):
    """Envelope recipients are To, Cc and Bcc, each once, and the Bcc header
    is not transmitted; a configured sender replaces the From address."""
    message = make_message(
        To="jane@example.com, Admins <admins@example.org>",
        Cc="JANE@example.com, ops@example.net", Bcc="audit@example.org")
    delivery = SMTPMailDelivery(server.host, server.port,
                                sender="bounces@mirrors.example.org")
    delivery.send(message)
    [received] = server.wait_for(1)
    assert received.mail_from == "bounces@mirrors.example.org"
    assert received.rcpt_to == ["jane@example.com", "admins@example.org",
                                "ops@example.net", "audit@example.org"]
    assert received.message["Bcc"] is None
    assert received.message["Cc"] == "JANE@example.com, ops@example.net"


def test_envelope_recipients_without_any():
    """A message without To, Cc or Bcc has no envelope recipients."""
    assert envelope_recipients(make_message(To=None)) == []


def test_no_recipient_is_an_error(server):
    """A message with no recipient is refused before connecting, saying so."""
    with pytest.raises(MailDeliveryError, match="no To, Cc or Bcc"):
        SMTPMailDelivery(server.host, server.port).send(make_message(To=None))
    assert server.messages == []


def test_unreachable_server():
    """A server that is not listening gives a MailDeliveryError naming the
    server and the cause."""
    port = closed_port()
    delivery = SMTPMailDelivery("127.0.0.1", port, timeout=5)
    with pytest.raises(MailDeliveryError) as caught:
        delivery.send(make_message())
    assert str(caught.value).startswith(
        "cannot reach SMTP server 127.0.0.1:%d: " % port)
    assert "refused" in str(caught.value).lower()
    assert isinstance(caught.value, MirrorKeeperError)


def test_silent_server_times_out():
    """A server that accepts the connection but never answers gives a
    MailDeliveryError once the timeout passes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        delivery = SMTPMailDelivery("127.0.0.1", port, timeout=0.5)
        with pytest.raises(MailDeliveryError,
                           match=r"cannot reach SMTP server .*: timed out"):
            delivery.send(make_message())


def test_all_recipients_refused():
    """When the server refuses every recipient, the error names each one
    with the server's reply and nothing is delivered."""
    with SMTPServer(refuse=["jane@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port)
        with pytest.raises(MailDeliveryError) as caught:
            delivery.send(make_message())
        assert "refused every recipient: jane@example.com (550 " in str(
            caught.value)
        assert list(caught.value.refused) == ["jane@example.com"]
        assert server.messages == []


def test_some_recipients_refused():
    """When the server refuses some recipients, the others get the message
    and the error says which were refused and which were delivered."""
    with SMTPServer(refuse=["gone@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port)
        message = make_message(To="gone@example.com, jane@example.com")
        with pytest.raises(MailDeliveryError,
                           match="refused gone@example.com .*; delivered to "
                                 "jane@example.com") as caught:
            delivery.send(message)
        assert caught.value.delivered == ["jane@example.com"]
        [received] = server.wait_for(1)
        assert received.rcpt_to == ["jane@example.com"]


def test_starttls_and_login():
    """With starttls and a login, the message travels over TLS, verified
    against the given authority, by the authenticated user."""
    with SMTPServer(tls=True, login=("prober", "s3cret")) as server:
        context = ssl.create_default_context(cafile=server.ca_file)
        delivery = SMTPMailDelivery(server.host, server.port, starttls=True,
                                    username="prober", password="s3cret",
                                    ssl_context=context)
        delivery.send(make_message())
        [received] = server.wait_for(1)
        assert received.tls is True
        assert received.authenticated_as == "prober"
        assert received.rcpt_to == ["jane@example.com"]


def test_wrong_password():
    """A login the server rejects gives a MailDeliveryError naming the user."""
    with SMTPServer(tls=True, login=("prober", "s3cret")) as server:
        context = ssl.create_default_context(cafile=server.ca_file)
        delivery = SMTPMailDelivery(server.host, server.port, starttls=True,
                                    username="prober", password="wrong",
                                    ssl_context=context)
        with pytest.raises(MailDeliveryError,
                           match="refused the login of 'prober': 535"):
            delivery.send(make_message())
        assert server.messages == []


def test_untrusted_certificate():
    """STARTTLS to a server whose certificate is not trusted fails with a
    MailDeliveryError and sends nothing."""
    with SMTPServer(tls=True) as server:
        delivery = SMTPMailDelivery(server.host, server.port, starttls=True)
        with pytest.raises(MailDeliveryError, match="TLS with SMTP server .*"
                           "certificate verify failed"):
            delivery.send(make_message())
        assert server.messages == []


def test_starttls_not_offered(server):
    """Asking for STARTTLS from a server that does not offer it is an error,
    not a silent plaintext delivery."""
    delivery = SMTPMailDelivery(server.host, server.port, starttls=True)
    with pytest.raises(MailDeliveryError, match="does not offer it"):
        delivery.send(make_message())
    assert server.messages == []


def test_login_requires_tls():
    """A password is not accepted for a delivery without STARTTLS."""
    with pytest.raises(ValueError, match="without STARTTLS"):
        SMTPMailDelivery("127.0.0.1", 25, username="u", password="p")


def test_login_required_but_not_given():
    """A server that requires a login refuses the sender of an anonymous
    delivery, and the error carries its reply."""
    with SMTPServer(tls=True, login=("prober", "s3cret")) as server:
        context = ssl.create_default_context(cafile=server.ca_file)
        delivery = SMTPMailDelivery(server.host, server.port, starttls=True,
                                    ssl_context=context)
        with pytest.raises(MailDeliveryError,
                           match="refused the sender noreply@mirrors.example"
                                 ".org: 5"):
            delivery.send(make_message())
        assert server.messages == []


def test_session_sends_each_message_on_one_connection(server):
    """A session sends message after message over one connection, each
    one accepted before the next MAIL FROM, and QUITs once at the end."""
    delivery = SMTPMailDelivery(server.host, server.port)
    with delivery.session() as session:
        for number in range(3):
            session.send(make_message(Subject="Number %d" % number))
            # Accepted when send() returns, before anything else is said.
            received = server.wait_for(number + 1, timeout=0)[-1]
            assert received.subject == "Number %d" % number
            assert server.commands_after(received) == []
    received = server.messages
    assert len({m.connection for m in received}) == 1
    assert server.commands_after(received[0]) == [
        "MAIL", "RCPT", "DATA", "MAIL", "RCPT", "DATA", "QUIT"]


def test_session_goes_on_after_a_refused_recipient():
    """A refused recipient fails that message only: the session's next
    message goes over the same connection."""
    with SMTPServer(refuse=["gone@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port)
        with delivery.session() as session:
            with pytest.raises(MailDeliveryError, match="refused every"):
                session.send(make_message(To="gone@example.com"))
            session.send(make_message())
        [received] = server.wait_for(1)
        assert received.rcpt_to == ["jane@example.com"]
        assert received.connection == 1


def test_slow_quit_does_not_hold_the_sender():
    """A server slow to answer QUIT costs at most quit_timeout, and the
    message it accepted is not turned into a failure."""
    with SMTPServer(quit_delay=60) as server:
        delivery = SMTPMailDelivery(server.host, server.port, timeout=30)
        delivery.quit_timeout = 0.5
        started = time.monotonic()
        delivery.send(make_message())
        assert time.monotonic() - started < 5
        [received] = server.wait_for(1)
        assert server.commands_after(received) == ["QUIT"]


def test_before_commit_point_comes_before_the_final_dot(server):
    """before_commit_point is called once the server has every line of the
    message but its final ".": it has not taken the message yet.  The
    message is accepted once send() returns."""
    delivery = SMTPMailDelivery(server.host, server.port)
    seen = []

    def commit_point():
        time.sleep(0.2)
        seen.append(([e["verb"] for e in server.events()
                      if e["event"] == "command"][-1:],
                     len(server.messages)))

    with delivery.session() as session:
        session.send(make_message(), before_commit_point=commit_point)
        assert seen == [(["DATA"], 0)]
        [received] = server.wait_for(1, timeout=0)
        assert server.commands_after(received) == []


def test_before_commit_point_failing_sends_nothing():
    """When before_commit_point raises, the final "." is never sent: the
    server keeps nothing, the exception propagates as it is, and the
    session's next message goes over a new connection."""

    def commit_point():
        raise ZeroDivisionError("the commit failed")

    with SMTPServer() as server:
        delivery = SMTPMailDelivery(server.host, server.port)
        with delivery.session() as session:
            with pytest.raises(ZeroDivisionError, match="the commit failed"):
                session.send(make_message(Subject="Never"),
                             before_commit_point=commit_point)
            session.send(make_message(Subject="Next"))
        [received] = server.wait_for(1)
        time.sleep(0.2)
        assert [m.subject for m in server.messages] == ["Next"]
        assert received.connection == 2


def test_lines_are_dot_stuffed_and_end_in_crlf(server):
    """Lines that start with "." (a lone "." included) reach the server as
    they were written, each ended by CRLF on the wire."""
    message = make_message()
    message.set_content(".hidden\n.\n..two dots\nlast line\n")
    SMTPMailDelivery(server.host, server.port).send(message)
    [received] = server.wait_for(1)
    assert received.body == ".hidden\n.\n..two dots\nlast line\n"
    assert b"\r\n.hidden\r\n.\r\n..two dots\r\nlast line\r\n" in (
        received.data)


def test_data_lines():
    """Every line ending becomes CRLF, a line that starts with "." gets a
    second one, and no final "." is added."""
    from mirrorkeeper.mail.delivery import _data_lines
    assert _data_lines(b"a\r\nb\nc\rd") == b"a\r\nb\r\nc\r\nd\r\n"
    assert _data_lines(b".\n..x\n.y\r\n") == b"..\r\n...x\r\n..y\r\n"
    assert _data_lines(b"") == b""
    assert _data_lines(b"\n\n") == b"\r\n\r\n"


def test_refused_end_of_data():
    """A 550 to the final "." is a MailDeliveryError (not one in doubt):
    the server does not have the message, and the session goes on over
    the same connection."""
    from mirrorkeeper.interfaces.mail import MailDeliveryInDoubt
    with SMTPServer(refuse_data=["gone@example.com"]) as server:
        delivery = SMTPMailDelivery(server.host, server.port)
        with delivery.session() as session:
            with pytest.raises(MailDeliveryError,
                               match="answered 550") as caught:
                session.send(make_message(To="gone@example.com"))
            assert not isinstance(caught.value, MailDeliveryInDoubt)
            session.send(make_message())
        [received] = server.wait_for(1)
        assert received.rcpt_to == ["jane@example.com"]
        assert received.connection == 1


def test_no_answer_to_end_of_data_is_in_doubt():
    """A server that never answers the final "." gives a
    MailDeliveryInDoubt once the timeout passes."""
    from mirrorkeeper.interfaces.mail import MailDeliveryInDoubt
    with SMTPServer(data_delay=3) as server:
        delivery = SMTPMailDelivery(server.host, server.port, timeout=0.5)
        with pytest.raises(MailDeliveryInDoubt,
                           match=r"did not answer its end \(timed out\): "
                                 "it may or may not have taken"):
            delivery.send(make_message())
