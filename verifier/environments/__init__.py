"""Build environments nobody has to take on trust (issue 12): a Debian rootfs archive built
reproducibly from an exact package list (``build.py``), its lock (``lock.py``), the
archive's signed chain (``release.py``) and the check that rebuilds it (``check.py``)."""
