"""python -m bench [--size quick|large] [--only NAME]: run the benchmarks.

Prints one line per figure, the reference beside it and their ratio, and
at the end one table of issue 15's goals against what was measured (with
the load average, since other work on the machine inflates every figure);
writes bench/results/<name>-<size>.json and the summary in bench/README.md.
"""

import argparse
import os
import sys
import time
from datetime import datetime, timezone

from bench import prober
from bench.report import (
    Figure, machine, summary, update_readme, write_results)
from bench.world import SIZES


def scanner(size, log=print, keep=False, **ignored):
    """bench/scanner.py (written for the scanner) as figures."""
    from bench import scanner as scanner_benchmark

    figures = []
    for name, value, unit, reference in scanner_benchmark.run(size,
                                                              keep=keep):
        figure = Figure(name, value, unit, reference,
                        "goal" if reference is not None else "")
        log(figure.line("scanner "))
        figures.append(figure)
    return figures, {}


def _tabled(module_name, reference_name):
    """A benchmark of a module whose run(size) returns (figure, value, unit,
    reference, ratio) rows, as figures."""
    def run(size, log=print, **ignored):
        import importlib
        module = importlib.import_module("bench." + module_name)
        figures = []
        for name, value, unit, reference, _ in module.run(size):
            figure = Figure(name, value, unit, reference,
                            reference_name if reference is not None else "")
            log(figure.line(module_name + " "))
            figures.append(figure)
        return figures, {}
    return run


# Every benchmark of issue 7, in pipeline order.  A benchmark is a function
# run(size, seed=, keep=, profile=, log=) -> (figures, details).  Those whose
# stage does not exist yet are hooks: None, with what they will measure.
BENCHMARKS = [
    ("scanner", scanner, ""),
    ("prober", prober.run, ""),
    ("mirrorlist", _tabled("mirrorlist", "nginx, same bytes"), ""),
    ("web", _tabled("web", "goal"), ""),
]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--only", choices=[name for name, _, _ in
                                           BENCHMARKS])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mirrors", type=int, action="append",
                        help="run at this K instead of the size's (may be "
                        "repeated); results are not written")
    parser.add_argument("--profile", action="store_true",
                        help="run the prober under cProfile and print the "
                        "costliest functions (CPU figures are then "
                        "inflated); results are not written")
    parser.add_argument("--keep", action="store_true",
                        help="keep each run's directory (world, database, "
                        "logs)")
    options = parser.parse_args(argv)
    command = ".venv/bin/python -m bench --size %s" % (options.size,)
    if options.only:
        command += " --only %s" % (options.only,)
    if not options.only and options.seed == 1:
        command = "make bench SIZE=%s  (%s)" % (options.size, command)
    measured = {}
    for name, run, pending in BENCHMARKS:
        if options.only and name != options.only:
            continue
        if run is None:
            print("%s: not measured yet: %s" % (name, pending))
            continue
        print("%s (size %s):" % (name, options.size))
        started = time.monotonic()
        kwargs = {}
        if options.mirrors and name == "prober":
            kwargs["mirror_counts"] = options.mirrors
        figures, details = run(options.size, seed=options.seed,
                               keep=options.keep, profile=options.profile,
                               **kwargs)
        measured[name] = figures
        if options.profile or options.mirrors:
            continue
        path = write_results("%s-%s" % (name, options.size), {
            "benchmark": name, "size": options.size, "seed": options.seed,
            "command": command,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": time.monotonic() - started, "machine": machine(),
            "figures": [figure.as_dict() for figure in figures],
            "details": details,
        })
        print("  written to %s" % (path,))
    update_readme()
    print()
    print("Goals against what was measured (%s; load average %s):" % (
        command, " ".join("%.2f" % x for x in os.getloadavg())))
    for line in summary(measured):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
