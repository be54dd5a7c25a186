"""Peak resident memory of the calling process, for tests that bound memory in a child process.

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is useless there: Linux keeps the high-water
mark across fork and exec, so a child started by pytest reports pytest's own peak (measured:
a 400 MiB parent made an idle child report 411 MiB). ``VmHWM`` belongs to the current
address space only, which exec replaces."""

from __future__ import annotations

import re
from pathlib import Path


def own_peak_kib() -> int:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    found = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    if found is None:
        raise RuntimeError("/proc/self/status has no VmHWM line")
    return int(found.group(1))
