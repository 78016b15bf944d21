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
