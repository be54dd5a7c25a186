"""Loaded by every python3 of a `verifier pypi` rebuild (PYTHONPATH): each attempt to reach
the network is written to the build log as a ``verifier-pypi: network`` line, so the report
can say the build needed the network (the sandbox has none: the attempt itself fails)."""

import os
import site
import sys

_seen = set()


def _network(event, args):
    if event in ("socket.getaddrinfo", "socket.connect"):
        target = args[:2] if event == "socket.getaddrinfo" else args[1]
        if event == "socket.connect" and not isinstance(target, tuple):
            return  # a local (AF_UNIX) socket
        text = f"{target!r}"[:200]
        if text not in _seen:
            _seen.add(text)
            sys.stderr.write(f"verifier-pypi: network: {event} {text}\n")


sys.addaudithook(_network)

# the build packages' directory as a site directory: their .pth files are processed, as in a venv
if os.environ.get("VERIFIER_BUILD_ENV"):
    site.addsitedir(os.environ["VERIFIER_BUILD_ENV"])
