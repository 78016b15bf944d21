-- When the last step of handing a message over began: set and committed
-- just before the end of its DATA (the final "." line) is written to the
-- SMTP server, after the server has taken every other byte of it.  A
-- message with date_sending set and date_sent NULL is in doubt: the
-- delivering process stopped (was killed, lost the connection, never got
-- the answer) between that commit and the commit of date_sent, so the
-- server may or may not have it.  Such a message is never sent again by
-- itself; a person decides (see mirrorkeeper.mail.outbox).  A clear
-- refusal of the final "." clears it again, the server having said no.
ALTER TABLE mail_outbox ADD COLUMN date_sending TIMESTAMP WITHOUT TIME ZONE;
