"""run._Gathered: the probes of one check gathered with a counter; and
run._ContentChecked, a content check's probes, with one Deferred."""

from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.enums import MirrorFreshness, ProbeOutcome
from mirrorkeeper.freshness import freshness_found
from mirrorkeeper.prober.plan import ContentCheck
from mirrorkeeper.prober.result import ProbeResult
from mirrorkeeper.prober.run import _ContentChecked, _Gathered


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


class _Probe:
    """What _ContentChecked asks of a _MirrorProbe: its client, its URLs
    at the base being probed, and the recording of each result."""

    def __init__(self, client):
        self.client = client
        self.recorded = []

    def url(self, url):
        return url

    def _record(self, result):
        if result.outcome is ProbeOutcome.PROBER_ERROR:
            raise ValueError(result.url)
        self.recorded.append(result.url)
        return result


def _result(url, outcome):
    return ProbeResult(url=url, outcome=outcome)


class ContentCheckedTests(unittest.SynchronousTestCase):
    bands = {MirrorFreshness.UP: "up", MirrorFreshness.ONEDAYBEHIND: "day",
             MirrorFreshness.ONEWEEKBEHIND: "week"}

    def checked(self):
        client = _HeldClient()
        probe = _Probe(client)
        check = ContentCheck("binary", (1, None, 1), "a place", "control",
                             dict(self.bands))
        return client, probe, check, _ContentChecked(probe, check)

    def test_freshness_files_asked_once_the_control_file_is_there(self):
        """The freshness files are asked for once the control file is
        found, all at once; their answers, in any order, make the band
        freshness_found tells of them."""
        client, probe, check, checked = self.checked()
        self.assertEqual(list(client.asked), ["control"])
        client.answer("control", _result("control", ProbeOutcome.FOUND))
        self.assertEqual(sorted(client.asked), ["day", "up", "week"])
        client.answer("week", _result("week", ProbeOutcome.FOUND))
        client.answer("up", _result("up", ProbeOutcome.NOT_FOUND))
        self.assertNoResult(checked.deferred)
        client.answer("day", _result("day", ProbeOutcome.FOUND))
        finding = self.successResultOf(checked.deferred)
        self.assertIs(finding.check, check)
        self.assertIs(finding.found, True)
        self.assertIs(finding.freshness, freshness_found(
            self.bands, {"day", "week"}))
        self.assertIsNot(finding.freshness, MirrorFreshness.UNKNOWN)
        self.assertEqual(probe.recorded, ["control", "week", "up", "day"])

    def test_a_missing_control_file_asks_nothing_more(self):
        client, probe, check, checked = self.checked()
        client.answer("control", _result("control", ProbeOutcome.NOT_FOUND))
        finding = self.successResultOf(checked.deferred)
        self.assertEqual((finding.found, finding.freshness, finding.outcome),
                         (False, MirrorFreshness.UNKNOWN,
                          ProbeOutcome.NOT_FOUND))
        self.assertEqual(client.asked, {})

    def test_the_network_failing_tells_nothing(self):
        """A control file the network kept from us leaves whether it is
        carried unknown; a freshness file, how fresh."""
        client, _, _, checked = self.checked()
        client.answer("control", _result("control", ProbeOutcome.TIMEOUT))
        finding = self.successResultOf(checked.deferred)
        self.assertEqual((finding.found, finding.freshness),
                         (None, MirrorFreshness.UNKNOWN))
        client, _, _, checked = self.checked()
        client.answer("control", _result("control", ProbeOutcome.FOUND))
        for url in ("up", "day"):
            client.answer(url, _result(url, ProbeOutcome.FOUND))
        client.answer("week", _result("week", ProbeOutcome.TIMEOUT))
        finding = self.successResultOf(checked.deferred)
        self.assertEqual((finding.found, finding.freshness),
                         (True, MirrorFreshness.UNKNOWN))

    def test_a_result_that_cannot_be_recorded_fails_the_check_once(self):
        client, _, _, checked = self.checked()
        client.answer("control", _result("control", ProbeOutcome.FOUND))
        client.answer("up", _result("up", ProbeOutcome.PROBER_ERROR))
        failure = self.failureResultOf(checked.deferred, ValueError)
        self.assertEqual(str(failure.value), "up")
        # The answers still to come change nothing.
        client.answer("day", _result("day", ProbeOutcome.FOUND))
        client.answer("week", _result("week", ProbeOutcome.FOUND))
