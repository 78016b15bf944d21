"""The summary table `python -m bench` ends with: each goal of issue 15
against the figures that measure it."""

from bench.report import GOALS, Figure, summary


def test_each_goal_is_judged_by_its_figures():
    """A ratio goal is judged by the figure's ratio, a value goal by its
    value; a goal whose benchmark did not run says so."""
    figures = {
        "mirrorlist": [
            Figure("mirrorlist, 1 process: req/s (nginx static, same "
                   "bytes)", 3000.0, "req/s", 10000.0, "nginx"),
            Figure("metalink, 1 process: req/s (nginx static, same "
                   "bytes)", 2000.0, "req/s", 10000.0, "nginx"),
            Figure("redirect, 1 process: p99 (nginx static, same bytes)",
                   12.5, "ms", 3.0, "nginx"),
            Figure("mirrorlist, --workers 2: req/s (nginx static, same "
                   "bytes)", 100.0, "req/s", 10000.0, "nginx")],
        "web": [Figure("web: /api/1/status, 1,000 mirrors (wrk, 8 conns, "
                       "uncached)", 120.0, "req/s"),
                Figure("web: /api/1/status after a change, 1,000 mirrors "
                       "(first request, median)", 80.0, "ms")],
    }
    lines = summary(figures)
    text = "\n".join(lines)
    assert lines[0].split()[:2] == ["goal", "figure"]
    judged = [line for line in lines if "1 process" in line]
    assert len(judged) == 3
    assert "0.3x" in judged[0] and judged[0].endswith("yes")
    assert "0.2x" in judged[1] and judged[1].endswith("NO")
    assert "12.5 ms" in judged[2] and judged[2].endswith("NO")
    # Figures no goal names are not in the table.
    assert "--workers" not in text
    status = [line for line in lines if "/api/1/status" in line]
    assert len(status) == 2 and "120 req/s" in status[0]
    assert status[0].endswith("yes")
    # A figure shown beside the goals, without one of its own.
    assert "80 ms" in status[1] and status[1].split()[-2:] == ["-", "-"]
    prober = [line for line in lines if "(prober not run)" in line]
    assert len(prober) == len([g for g in GOALS if g.benchmark ==
                               "prober"])
    assert "(no such figure)" in text
