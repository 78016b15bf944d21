"""Figures, the machine they were measured on, and where they are written.

Every benchmark returns a list of `Figure`s: a measured value, and beside it
the reference it is judged against (a lower bound, the same work done by
curl or nginx in the same run, or a figure from doc/design.md) and their
ratio.  `python -m bench` prints one line per figure, writes them to
bench/results/<name>.json and summarises them in bench/README.md.
"""

from __future__ import annotations

import json
import os
import platform
import re

import attrs

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
README = os.path.join(HERE, "README.md")


@attrs.define
class Figure:
    """One measured figure.

    @ivar name: what was measured, e.g. "K=100 CPU per 1,000 requests".
    @ivar value: the measurement, a number.
    @ivar unit: e.g. "s", "ms", "MB", "req/s".
    @ivar reference: the value it is judged against, or None.
    @ivar reference_name: what the reference is, e.g. "curl --parallel".
    @ivar goal: the goal for the ratio, e.g. "<= 1.2", or "".
    """

    name: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    goal: str = ""

    @property
    def ratio(self):
        if self.reference in (None, 0) or self.value is None:
            return None
        return self.value / self.reference

    def line(self, prefix=""):
        def number(value):
            if value is None:
                return "-"
            if abs(value) >= 100:
                return "%.0f" % value
            if abs(value) >= 10:
                return "%.1f" % value
            return "%.2f" % value

        text = "%-44s %10s %-6s" % (prefix + self.name, number(self.value),
                                    self.unit)
        if self.reference is not None or self.reference_name:
            text += " | %-34s %10s %-6s" % (
                self.reference_name, number(self.reference),
                self.unit if self.reference is not None else "")
            ratio = self.ratio
            text += " | ratio %s" % (number(ratio) if ratio is not None
                                     else "-")
            if self.goal:
                text += " (goal %s)" % (self.goal,)
        return text

    def as_dict(self):
        data = attrs.asdict(self)
        data["ratio"] = self.ratio
        return data


def machine():
    """What the figures were measured on."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_kb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory_kb = int(line.split()[1])
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1) if memory_kb else None,
        "kernel": platform.release(),
        # Other work on the machine inflates every figure: see it here.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def write_results(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "%s.json" % (name,))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    return path


_START = "<!-- results: written by python -m bench; do not edit below -->"
_END = "<!-- end of results -->"


def update_readme():
    """Rewrite the results section of bench/README.md from every
    bench/results/*.json."""
    sections = []
    if os.path.isdir(RESULTS):
        for name in sorted(os.listdir(RESULTS)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(RESULTS, name), encoding="utf-8") as f:
                data = json.load(f)
            m = data["machine"]
            lines = [
                "### %s (`%s`)" % (name[:-5], data["command"]), "",
                "Taken %s on %d cores (%s), %s GB memory, Linux %s, "
                "Python %s; %.0f s in all." % (
                    data["date"], m["nproc"], m["cpu"], m["memory_gb"],
                    m["kernel"], m["python"], data["seconds"]),
                "", "```"]
            for figure in data["figures"]:
                lines.append(Figure(**{k: v for k, v in figure.items()
                                       if k != "ratio"}).line())
            lines.append("```")
            for note in data.get("notes", []):
                lines.append("")
                lines.append(note)
            sections.append("\n".join(lines))
    body = "\n\n".join(sections) or "No results yet: run `make bench`."
    with open(README, encoding="utf-8") as f:
        text = f.read()
    block = "%s\n\n%s\n\n%s" % (_START, body, _END)
    if _START in text:
        text = re.sub(re.escape(_START) + ".*?" + re.escape(_END),
                      lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(README, "w", encoding="utf-8") as f:
        f.write(text)


@attrs.define
class Goal:
    """A goal of issue 15 that a benchmark measures.

    @ivar text: the goal, as the issue's table says it.
    @ivar benchmark: the benchmark whose figures measure it.
    @ivar pattern: a regular expression the names of those figures match
        (each matching figure is a row of the summary).
    @ivar measure: "ratio" (against the figure's reference) or "value".
    @ivar op: "<=" or ">=", or None for a figure shown beside the goals
        without one of its own.
    @ivar bound: what the measure must be at most or at least.
    @ivar unit: the bound's unit, for a value.
    """

    text: str
    benchmark: str
    pattern: str
    measure: str
    op: str | None
    bound: float | None
    unit: str = ""

    def judge(self, figure):
        """(measured, met) of `figure`: met is None when nothing was
        measured."""
        measured = figure.ratio if self.measure == "ratio" else figure.value
        if measured is None or self.op is None:
            return measured, None
        met = measured <= self.bound if self.op == "<=" else \
            measured >= self.bound
        return measured, met

    def wanted(self):
        if self.op is None:
            return "-"
        return "%s %g%s" % (self.op, self.bound, "x" if self.measure ==
                            "ratio" else " " + self.unit)


# Issue 15's table, goal by goal (the CPU and network figures of the
# prober are ratios against curl and the lower bound measured in the same
# run; the mirror list daemon's against nginx serving the same bytes).
GOALS = [
    Goal("prober CPU per request, whole run, vs curl --parallel",
         "prober", r"^K=\d+ CPU per request \(whole run\)$", "ratio", "<=",
         1.0),
    Goal("prober network phase vs the lower bound", "prober",
         r"^K=\d+ network phase wall time$", "ratio", "<=", 1.2),
    # The first run knows no mirror's duration to start the slowest first.
    Goal("prober network phase, first run ever", "prober",
         r"^K=\d+ network phase wall time, first run$", "ratio", None,
         None),
    Goal("prober peak memory, flat in K", "prober",
         r"^K=\d+ peak memory \(RSS\)$", "value", "<=", 150.0, "MB"),
    Goal("mirror list daemon, one process, vs nginx", "mirrorlist",
         r"^(mirrorlist|metalink|redirect), 1 process: req/s \(nginx",
         "ratio", ">=", 0.25),
    Goal("mirror list daemon p99 at 32 connections", "mirrorlist",
         r"^(mirrorlist|metalink|redirect), 1 process: p99", "value", "<=",
         10.0, "ms"),
    Goal("/api/1/status at 1,000 mirrors, uncached", "web",
         r"^web: /api/1/status, .*uncached\)$", "value", ">=", 100.0,
         "req/s"),
    Goal("/api/1/status at 1,000 mirrors, after a change", "web",
         r"^web: /api/1/status after a change, ", "value", None, None,
         "ms"),
    # The site keeps each answer until a mirror changes: the first
    # request after a change computes the page as every request did.
    Goal("archive listing at 1,000 mirrors, uncached", "web",
         r"^web: archive listing( after a change)?, .*\)$", "value", "<=",
         50.0, "ms"),
]


def summary(figures, goals=GOALS):
    """The summary table's lines: each goal against each figure that
    measures it, from `figures` ({benchmark name: [Figure]}; a benchmark
    not run is left out, and its goals say so)."""
    def number(value):
        return "%.3g" % value if abs(value) < 1000 else "%.0f" % value

    rows = [("goal", "figure", "measured", "goal", "met")]
    for goal in goals:
        if goal.benchmark not in figures:
            rows.append((goal.text, "(%s not run)" % goal.benchmark, "-",
                         goal.wanted(), "-"))
            continue
        matched = [figure for figure in figures[goal.benchmark]
                   if re.search(goal.pattern, figure.name)]
        if not matched:
            rows.append((goal.text, "(no such figure)", "-",
                         goal.wanted(), "-"))
        for figure in matched:
            measured, met = goal.judge(figure)
            unit = "x" if goal.measure == "ratio" else " " + figure.unit
            rows.append((
                goal.text, figure.name.split(" (")[0],
                "-" if measured is None else number(measured) + unit,
                goal.wanted(),
                "-" if met is None else ("yes" if met else "NO")))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width
                       in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines
