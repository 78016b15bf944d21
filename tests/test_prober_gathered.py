"""run._Gathered: the probes of one check gathered with a counter."""

from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.prober.run import _Gathered


class _HeldClient:
    """Holds each probe until the test hands its result on."""

    def __init__(self):
        self.asked = {}

    def probe_then(self, url, callback, *args):
        self.asked[url] = (callback, args)

    def answer(self, url, result):
        callback, args = self.asked.pop(url)
        callback(result, *args)


class GatheredTests(unittest.SynchronousTestCase):
    def test_results_in_order_after_each(self):
        """The results come in the order the URLs were given, each passed
        through `each` as it arrives."""
        seen = []
        client = _HeldClient()
        gathered = _Gathered(client, ["a", "b", "c"],
                             lambda r: seen.append(r) or r * 10)
        client.answer("c", 3)
        client.answer("a", 1)
        self.assertNoResult(gathered.deferred)
        client.answer("b", 2)
        self.assertEqual(self.successResultOf(gathered.deferred), [10, 20, 30])
        self.assertEqual(seen, [3, 1, 2])

    def test_nothing_to_gather(self):
        """No URLs at all gives an empty list at once."""
        self.assertEqual(
            self.successResultOf(_Gathered(_HeldClient(), [], None).deferred),
            [])

    def test_first_failure_wrapped(self):
        """The first failure of `each` fails the whole as a FirstError
        naming its index; later results change nothing."""
        def each(result):
            if result == "bad":
                raise ValueError(result)
            return result

        client = _HeldClient()
        gathered = _Gathered(client, ["a", "b"], each)
        client.answer("b", "bad")
        failure = self.failureResultOf(gathered.deferred, defer.FirstError)
        self.assertEqual(failure.value.index, 1)
        self.assertTrue(failure.value.subFailure.check(ValueError))
        client.answer("a", 1)
