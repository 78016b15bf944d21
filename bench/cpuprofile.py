"""python -m bench.cpuprofile OUT SCRIPT [ARG...]: profile SCRIPT's CPU.

`python -m cProfile` times the main thread by the wall clock: a reactor
waiting in epoll looks busy, and the prober's writer thread, which records
every mirror, is not seen at all.  This runs SCRIPT with one profile per
thread, each timed by that thread's own CPU clock (time.thread_time), and
writes them merged into OUT (a pstats file).
"""

import cProfile
import pstats
import runpy
import sys
import threading
import time


def main():
    out, script = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    finished = []
    run = threading.Thread.run

    def profiled(thread):
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            run(thread)
        finally:
            profile.disable()
            finished.append(profile)

    threading.Thread.run = profiled
    main_profile = cProfile.Profile(time.thread_time)
    main_profile.enable()
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        main_profile.disable()
        stats = pstats.Stats(main_profile)
        for profile in list(finished):
            stats.add(profile)
        stats.dump_stats(out)


if __name__ == "__main__":
    main()
