"""The SMTP server on loopback that the suite's mail tests deliver to."""

import os
import smtplib
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from tests.harness.smtp import SMTPServer, SMTPServerError


@pytest.fixture
def server():
    server = SMTPServer().start()
    yield server
    server.stop()


RAW = (b"From: Prober <noreply@mirrors.example.org>\r\n"
       b"To: Owner <owner@example.com>\r\n"
       b"Subject: Mirror disabled\r\n"
       b"\r\n"
       b"First line.\r\n"
       b".A line that starts with a dot.\r\n")


def test_listens_on_loopback_speaking_esmtp(server):
    """The server answers EHLO on 127.0.0.1 at the port it reports."""
    assert server.host == "127.0.0.1"
    with socket.create_connection((server.host, server.port), 5) as sock:
        greeting = sock.recv(1024)
    assert greeting.startswith(b"220 ") and b"ESMTP" in greeting
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        code, _ = client.ehlo()
    assert code == 250


def test_keeps_envelope_and_message(server):
    """A message sent by a plain SMTP client is kept with its envelope, its
    bytes and its parsed headers and body."""
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.sendmail("bounces@mirrors.example.org",
                        ["owner@example.com", "admin@example.com"], RAW)
    [received] = server.wait_for(1)
    assert received.mail_from == "bounces@mirrors.example.org"
    assert received.rcpt_to == ["owner@example.com", "admin@example.com"]
    assert received.data.endswith(RAW)
    assert received.data.startswith(b"Received: ")
    assert received.message["To"] == "Owner <owner@example.com>"
    assert received.subject == "Mirror disabled"
    assert received.body == "First line.\n.A line that starts with a dot.\n"
    assert received.tls is False and received.authenticated_as is None


def test_messages_in_order_and_clear(server):
    """Messages are listed in the order they arrived, and clear() forgets
    them without affecting later ones."""
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        for number in range(3):
            client.sendmail("a@example.org", ["b@example.org"],
                            b"Subject: %d\r\n\r\nbody\r\n" % number)
    assert [m.subject for m in server.wait_for(3)] == ["0", "1", "2"]
    server.clear()
    assert server.messages == []
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.sendmail("a@example.org", ["b@example.org"],
                        b"Subject: after\r\n\r\nbody\r\n")
    assert [m.subject for m in server.wait_for(1)] == ["after"]


def test_wait_for_times_out_saying_what_came(server):
    """wait_for() raises, listing what did arrive, when too few messages
    come in time."""
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.sendmail("a@example.org", ["b@example.org"],
                        b"Subject: only one\r\n\r\nbody\r\n")
    with pytest.raises(SMTPServerError, match="expected 2 .* got 1.*only one"):
        server.wait_for(2, timeout=0.2)


def test_refused_recipient():
    """A recipient the server is told to refuse gets a 550 and no copy."""
    with SMTPServer(refuse=["gone@example.com"]) as server:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            refused = client.sendmail(
                "a@example.org", ["gone@example.com", "here@example.com"],
                b"Subject: x\r\n\r\nbody\r\n")
        assert list(refused) == ["gone@example.com"]
        assert refused["gone@example.com"][0] == 550
        [received] = server.wait_for(1)
        assert received.rcpt_to == ["here@example.com"]


def test_stop_ends_the_server():
    """After stop() the port no longer accepts connections and the spool is
    gone."""
    server = SMTPServer().start()
    port, directory = server.port, server.directory
    server.stop()
    assert not os.path.exists(directory)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), 5).close()
    server.stop()  # a second stop is harmless


def _running(pid):
    """True while process `pid` runs (a zombie has finished running)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_owner_leaves_no_server():
    """When the process that started the server is killed, the server exits
    and removes its directory."""
    script = textwrap.dedent("""
        from tests.harness.smtp import SMTPServer
        import time
        server = SMTPServer().start()
        print(server._process.pid, server.directory, flush=True)
        time.sleep(600)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])))
    owner = subprocess.Popen([sys.executable, "-c", script],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        pid, directory = owner.stdout.readline().split()
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()
    deadline = time.monotonic() + 30
    while _running(pid) or os.path.exists(directory):
        assert time.monotonic() < deadline, (
            "the SMTP server outlived its owner")
        time.sleep(0.05)
