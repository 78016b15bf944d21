"""Probe records with what they found, as the prober's recording step
writes them: the findings JSON and their rows (mirrorkeeper.model.
probefindings), for tests of the readers."""

import json

from mirrorkeeper.enums import (
    MirrorFreshness, PackagePublishingPocket, ProbeRecordState)
from mirrorkeeper.model.probefindings import write_findings


def place(kind, place_id, component_id, found=True,
          freshness=MirrorFreshness.UP,
          pocket=PackagePublishingPocket.RELEASE, outcome="found",
          label="a place", url="http://mirror.example/dists/x/Packages.gz"):
    """One content finding: `kind` 'binary' (`place_id` an arch series
    id) or 'source' (a series id)."""
    return {"kind": kind, "place": place_id, "pocket": pocket.value,
            "component": component_id, "label": label, "url": url,
            "found": found, "freshness": freshness.value,
            "detector": "publishing", "outcome": outcome}


def arch_place(arch, component, **kwargs):
    return place("binary", arch.id, component.id, **kwargs)


def source_place(series, component, **kwargs):
    return place("source", series.id, component.id, **kwargs)


def findings(content=(), cdimages=(), detectors=(), unreachable=False,
             lies="", outcomes=None, requests=None):
    """Findings in the form prober.record.findings_of makes."""
    if outcomes is None:
        outcomes = {"found": len(content)} if content else {}
    return {
        "version": 1, "unreachable": unreachable, "lies": lies,
        "base_url": "http://mirror.example/", "protocols": {},
        "families": [True, False],
        "requests": sum(outcomes.values()) if requests is None else requests,
        "outcomes": outcomes, "content": list(content),
        "cdimages": list(cdimages), "expected_cdimages": [],
        "detectors": list(detectors)}


def probed(store, mirror, found, log="a probe\n", when=None,
           state=ProbeRecordState.APPLIED):
    """A probe record of `mirror` that found `found` (findings()), with
    its rows; flushed, not committed."""
    record = mirror.newProbeRecord(log, when)
    record.state = state
    record.findings = json.dumps(found)
    store.flush()
    write_findings(store, record.id, found)
    return record
