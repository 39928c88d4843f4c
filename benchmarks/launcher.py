"""Run one command and print its wall time and peak memory: a small, fresh parent for it.

    python -S -I benchmarks/launcher.py STDIN STDOUT STDERR COMMAND [ARG...]

prints one line, ``<wall seconds> <peak RSS in KiB> <exit status>``.

Why a launcher: Linux counts in a child's peak resident set (``ru_maxrss``) the peak of the
address space it was started from, so a child started by the benchmark itself (which has
held whole input lists) would report the benchmark's memory, not its own. Started from this
process, which imports only ``os``, ``sys`` and ``time``, the command's figure is its own
(a Python interpreter alone needs more than this launcher does).
"""

import os
import sys
import time


def main(argv: list[str]) -> int:
    """Spawn the command with its stdin, stdout and stderr files; print its figures."""
    if len(argv) < 4:
        sys.stderr.write(__doc__ or "")
        return 2
    stdin, stdout, stderr, *command = argv
    writing = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, stdout, writing, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, stderr, writing, 0o644)]
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    sys.stdout.write(f"{wall:.6f} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
