"""The mirror network on the web: what a master needs to know of the
mirrors that pull from it.

    GET /rsync_acl[?distribution=NAME]   the rsync ACL addresses of the
                                         approved mirrors, one a line

A master's rsyncd.conf lets in only the hosts that mirror it ("hosts
allow"); MirrorManager published the addresses its mirrors registered
for that as /rsync_acl, one a line, for masters to fetch from cron.
Only approved mirrors' addresses are listed: official ones (a mirror
admin reviewed them) whose owner has not paused them.  A mirror the
prober disabled for being behind stays listed: it is disabled until it
syncs, and it must be let in to sync.

NetworkHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.model.distribution import Distribution, DistributionSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, MirrorACLAddress)
from mirrorkeeper.web.site import Response

TEXT = "text/plain; charset=utf-8"


def approved(*conditions):
    """The conditions on DistributionMirror of an approved mirror, and
    `conditions`."""
    return (DistributionMirror.status == MirrorStatus.OFFICIAL,
            DistributionMirror.owner_paused == False,  # noqa: E712
            *conditions)


def rsync_acl(store, distribution_name=None):
    """The rsync ACL addresses of the approved mirrors (of the
    distribution called `distribution_name`, if given), sorted, each
    once."""
    conditions = []
    if distribution_name is not None:
        distribution = DistributionSet(store).getByName(distribution_name)
        if distribution is None:
            raise NotFoundError("no distribution is called %r"
                                % (distribution_name,))
        conditions.append(
            DistributionMirror.distribution_id == distribution.id)
    rows = store.find(
        MirrorACLAddress.address,
        MirrorACLAddress.distribution_mirror_id == DistributionMirror.id,
        DistributionMirror.distribution_id == Distribution.id,
        *approved(*conditions)).config(distinct=True)
    return sorted(rows)


class NetworkHandlers:
    """The handlers of this module's routes."""

    async def rsync_acl(self, ctx):
        name = ctx.query.get("distribution") or None
        addresses = await self.db.run(rsync_acl, name)
        return Response(200, "".join(
            address + "\n" for address in addresses).encode("utf-8"), TEXT)
