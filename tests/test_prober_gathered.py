"""run._Gathered: the probes of one check gathered with a counter."""

from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.prober.run import _Gathered


class GatheredTests(unittest.SynchronousTestCase):
    def test_results_in_order_after_each(self):
        """The results come in the order the Deferreds were given, each
        passed through `each` as it arrives."""
        seen = []
        ds = [defer.Deferred() for _ in range(3)]
        gathered = _Gathered(ds, lambda r: seen.append(r) or r * 10)
        ds[2].callback(3)
        ds[0].callback(1)
        self.assertNoResult(gathered.deferred)
        ds[1].callback(2)
        self.assertEqual(self.successResultOf(gathered.deferred), [10, 20, 30])
        self.assertEqual(seen, [3, 1, 2])

    def test_nothing_to_gather(self):
        """No Deferreds at all gives an empty list at once."""
        self.assertEqual(
            self.successResultOf(_Gathered([], None).deferred), [])

    def test_first_failure_wrapped(self):
        """The first failure fails the whole as a FirstError naming its
        index."""
        ds = [defer.Deferred() for _ in range(2)]
        gathered = _Gathered(ds, lambda r: r)
        ds[1].errback(ValueError("bad"))
        failure = self.failureResultOf(gathered.deferred, defer.FirstError)
        self.assertEqual(failure.value.index, 1)
        self.failureResultOf(ds[1], ValueError)
        ds[0].callback(1)
