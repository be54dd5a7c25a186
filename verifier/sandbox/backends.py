"""Which sandbox backend runs builds, chosen once with a recorded reason.

The registry is plain data, in order of preference; the first backend available on this
machine is used and the reason is written into every report (``sandbox.backend_reason``).
Today podman is the only real backend; the fake in ``fake.py`` is for tests and is never
chosen here: tests pass it to the pipeline directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from verifier.errors import SandboxError
from verifier.sandbox.interface import Sandbox, SandboxChoice
from verifier.sandbox.podman import Podman
from verifier.sandbox.podman_sandbox import _PodmanSandbox
from verifier.settings import Settings


def _podman(settings: Settings) -> Sandbox | None:
    found = shutil.which(settings.podman)
    if found is None:
        return None
    return _PodmanSandbox(Podman(found), settings, SandboxChoice("podman", f"{found}: the first available backend"))


BACKENDS: tuple[tuple[str, Callable[[Settings], Sandbox | None]], ...] = (
    ("podman", _podman),
)


def open_sandbox(settings: Settings) -> Sandbox:
    """The first available backend in ``BACKENDS``; a SandboxError (exit 5) when none is."""
    for _name, opener in BACKENDS:
        sandbox = opener(settings)
        if sandbox is not None:
            return sandbox
    raise SandboxError(f"{settings.podman}: podman not found (install it: apt-get install podman runc)")
