"""The mirror-disabled message of a mirror whose upstream is behind says
so: the mirror is not blamed alone."""

from zope.component import getUtility

from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.mail.notifications import MailSettings, queue_mirror_disabled
from mirrorkeeper.mail.outbox import pending
from mirrorkeeper.model.tiers import set_upstream

SETTINGS = MailSettings(sender="a <a@example.org>", site_name="site")


def bodies(store):
    return [" ".join(message.as_message().get_content().split())
            for message in pending(store)]


def test_disabled_upstream_is_named(sample_store):
    mirrors = getUtility(IDistributionMirrorSet)
    downstream, upstream = mirrors["valid-mirror"], mirrors["invalid-mirror"]
    set_upstream(downstream, upstream)
    upstream.enabled = False
    sample_store.flush()
    recipients = queue_mirror_disabled(sample_store, downstream, "log\n",
                                       config=SETTINGS)
    texts = bodies(sample_store)
    assert len(texts) == len(recipients) > 0
    for text in texts:
        assert ("- It pulls from the mirror invalid-mirror, which is "
                "disabled itself") in text
    sample_store.rollback()


def test_upstream_that_is_fine_is_not_mentioned(sample_store):
    mirrors = getUtility(IDistributionMirrorSet)
    downstream, upstream = mirrors["valid-mirror"], mirrors["invalid-mirror"]
    set_upstream(downstream, upstream)
    upstream.enabled = True
    sample_store.flush()
    queue_mirror_disabled(sample_store, downstream, "log\n", config=SETTINGS)
    assert bodies(sample_store)
    assert not any("pulls from" in text for text in bodies(sample_store))
    sample_store.rollback()
