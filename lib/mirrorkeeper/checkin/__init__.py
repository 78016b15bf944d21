"""Check-ins: what a mirror's own host says its tree carries.

report_mirror is the client, run on the mirror host after each sync; it is
one file of the standard library only, since the host has nothing of
mirrorkeeper installed.  The server's side is mirrorkeeper.model.checkin
(tokens, check-ins, the probe queue) and mirrorkeeper.web.checkin_pages.
"""
