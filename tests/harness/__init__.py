"""Real servers for the test suite, started on loopback and thrown away after.

- postgres: a throwaway PostgreSQL server in a temporary directory
  (PostgresServer, TemplateDatabases, shared_postgres_server);
- smtp: an SMTP server that keeps every message it receives (SMTPServer);
- sftp: an SFTP server confined to a directory (SFTPServer);
- child: what the child-process servers share (stop_child).

Nothing here is a fake: the code under test talks to these servers over
sockets exactly as it talks to the production ones.
"""
