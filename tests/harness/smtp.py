"""A real SMTP server on loopback that keeps every message it receives.

    server = SMTPServer().start()
    SMTPMailDelivery(server.host, server.port).send(message)
    [received] = server.wait_for(1)
    received.mail_from, received.rcpt_to      # the envelope
    received.message["Subject"]               # email.message.EmailMessage
    received.data                             # the bytes as received
    server.clear()
    server.stop()

The server is Twisted's ESMTP, run in a child process (tests/harness/_smtpd.py)
so that synchronous callers (doctests, command-line tests) can talk to it
while they block, and so that it never shares a reactor with the tests. It
listens on 127.0.0.1 on a port the kernel picks, writes each accepted message
to a spool directory before answering 250, and exits when this process
closes its stdin: on stop(), at exit, or when this process dies.

Options, for testing the ways delivery can go:
- tls=True: offers STARTTLS with a self-signed certificate for 127.0.0.1 and
  localhost; `ca_file` is that certificate, for the client to trust.
- login=("user", "password"): requires AUTH PLAIN or LOGIN before MAIL FROM.
- refuse=["someone@example.com"]: answers 550 to RCPT TO for those.
- quit_delay=3: waits 3 seconds before answering QUIT (the connection's
  messages are accepted already).
- data_delay=0.05: waits that long after the end of DATA before keeping the
  message and answering 250; a message whose client has gone meanwhile was
  never accepted and is not kept.
- refuse_data=["someone@example.com"]: answers 550 to the end of DATA of a
  message to any of those (after its RCPT TO was accepted), keeping
  nothing.

What happened on each connection, in order, is in events(): "connected",
each "command" (with its verb), each message "accepted" (with its
sequence), "data refused", "quit answered", "lost".
commands_after(received) says what the client said on the connection after
the server had accepted a message: nothing, if the client went without
another word.
"""

import atexit
import datetime
import email.parser
import email.policy
import ipaddress
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from tests.harness.child import stop_child

__all__ = ["ReceivedMessage", "SMTPServer", "SMTPServerError"]

_SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "_smtpd.py")


class SMTPServerError(RuntimeError):
    """The test SMTP server did not start or did not get what was awaited."""


@dataclass
class ReceivedMessage:
    """One message the server accepted."""

    mail_from: str
    rcpt_to: list
    data: bytes  # as received, CRLF line endings, after our Received:
    authenticated_as: str = None
    tls: bool = False
    connection: int = None  # the server's number for the connection
    sequence: int = None    # the server's number for the message
    message: EmailMessage = field(init=False, repr=False)

    def __post_init__(self):
        # Parsed with the line endings of a file, not of the wire, so that
        # the text a test reads has plain newlines.
        self.message = email.parser.BytesParser(
            policy=email.policy.default).parsebytes(
                self.data.replace(b"\r\n", b"\n"))

    @property
    def subject(self):
        return self.message["Subject"]

    @property
    def message_id(self):
        """The Message-ID, unfolded (a long one comes on a line of its
        own)."""
        value = self.message["Message-ID"]
        return value.strip() if value is not None else None

    @property
    def body(self):
        """The text of the message (its plain-text part, if multipart)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class SMTPServer:
    """See the module docstring."""

    host = "127.0.0.1"
    # Python and Twisted start in well under a second; a loaded CI machine
    # can be ten times slower.
    start_timeout = 30

    def __init__(self, tls=False, login=None, refuse=(), quit_delay=0,
                 data_delay=0, refuse_data=()):
        self.tls = tls
        self.login = login
        self.refuse = list(refuse)
        self.refuse_data = list(refuse_data)
        self.quit_delay = quit_delay
        self.data_delay = data_delay
        self.port = None
        self.directory = None
        self.ca_file = None
        self._process = None
        self._seen = {}
        self._lock = threading.Lock()

    def start(self):
        """Start the server process; returns self once it listens."""
        if self._process is not None:
            raise SMTPServerError("this SMTP server is already started")
        self.directory = tempfile.mkdtemp(prefix="mirrorkeeper-smtp-")
        spool = os.path.join(self.directory, "spool")
        os.mkdir(spool)
        atexit.register(self.stop)
        command = [sys.executable, _SERVER_SCRIPT, spool,
                   "--remove-on-exit", self.directory,
                   "--events", os.path.join(self.directory, "events.jsonl"),
                   "--quit-delay", str(self.quit_delay),
                   "--data-delay", str(self.data_delay)]
        if self.tls:
            pem = os.path.join(self.directory, "server.pem")
            self.ca_file = os.path.join(self.directory, "ca.pem")
            _write_self_signed(pem, self.ca_file)
            command += ["--tls", pem]
        if self.login is not None:
            command += ["--login", "%s:%s" % tuple(self.login)]
        for address in self.refuse:
            command += ["--refuse", address]
        for address in self.refuse_data:
            command += ["--refuse-data", address]
        with open(os.path.join(self.directory, "smtpd.log"), "wb") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, cwd=self.directory)
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop the server and remove its files; safe to call twice."""
        with self._lock:
            process, self._process = self._process, None
            stop_child(process, self.directory)
            self.directory = None
            atexit.unregister(self.stop)

    def __enter__(self):
        return self.start() if self._process is None else self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def messages(self):
        """Every message received since start() or clear(), oldest first."""
        with self._lock:
            return self._load()

    def _load(self):
        if self.directory is None:
            return []
        spool = os.path.join(self.directory, "spool")
        for name in sorted(os.listdir(spool)):
            if not name.endswith(".json") or name in self._seen:
                continue
            with open(os.path.join(spool, name)) as f:
                envelope = json.load(f)
            with open(os.path.join(spool, envelope["data"]), "rb") as f:
                data = f.read()
            self._seen[name] = ReceivedMessage(
                mail_from=envelope["mail_from"],
                rcpt_to=envelope["rcpt_to"], data=data,
                authenticated_as=envelope["authenticated_as"],
                tls=envelope["tls"], connection=envelope["connection"],
                sequence=envelope["sequence"])
        return [self._seen[name] for name in sorted(self._seen)]

    def wait_for(self, count, timeout=10):
        """Wait until `count` messages have arrived; returns all of them.

        Raises SMTPServerError, saying what did arrive, if they have not
        after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                raise SMTPServerError(
                    "expected %d message(s) within %s s, got %d: %r" % (
                        count, timeout, len(messages),
                        [(m.rcpt_to, m.subject) for m in messages]))
            time.sleep(0.02)

    def clear(self):
        """Forget every message received so far."""
        with self._lock:
            self._load()
            spool = os.path.join(self.directory or "", "spool")
            for name in self._seen:
                os.remove(os.path.join(spool, name))
                os.remove(os.path.join(spool, name[:-len(".json")] + ".eml"))
            self._seen.clear()

    def events(self):
        """Every event since start(), oldest first: dicts with
        "connection", "event" and, for a command its "verb", for an
        accepted message its "sequence"."""
        if self.directory is None:
            return []
        with open(os.path.join(self.directory, "events.jsonl")) as f:
            lines = f.read().splitlines(keepends=True)
        # A line being written has no newline yet.
        return [json.loads(line) for line in lines if line.endswith("\n")]

    def commands_after(self, received, events=None):
        """The verbs the client sent on `received`'s connection after the
        server had accepted it."""
        events = self.events() if events is None else events
        after = None
        for event in events:
            if event["connection"] != received.connection:
                continue
            if after is None:
                if (event["event"] == "accepted"
                        and event["sequence"] == received.sequence):
                    after = []
            elif event["event"] == "command":
                after.append(event["verb"])
        if after is None:
            raise SMTPServerError("the server never accepted %r"
                                  % (received,))
        return after

    def log(self):
        """What the server process wrote to stderr, for error messages."""
        if self.directory is None:
            return ""
        with open(os.path.join(self.directory, "smtpd.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _read_port(self):
        out = self._process.stdout
        ready, _, _ = select.select([out], [], [], self.start_timeout)
        line = out.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self._process.poll()
            raise SMTPServerError(
                "the test SMTP server did not start (exit status %s): %s%s"
                % (self._process.returncode, line, self.log()))
        return int(line.split()[1])


def _write_self_signed(pem_path, ca_path):
    """A key and self-signed certificate for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "mirrorkeeper test SMTP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                       critical=True)
        .sign(key, hashes.SHA256()))
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    with open(pem_path, "wb") as f:
        f.write(key_pem + cert_pem)
    with open(ca_path, "wb") as f:
        f.write(cert_pem)
