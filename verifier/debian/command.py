"""The build command of a `verifier debian` run, like Debian's build daemons run it:
``dpkg-source -x`` and ``dpkg-buildpackage -rfakeroot`` as an unprivileged build user, in
the .buildinfo's Build-Path, with umask 022 (build.sh sets it; LC_ALL=C.UTF-8 and TZ=UTC
come from the sandbox's normalised environment). Afterwards, as root, the rebuild's own
.debs, -dbgsym packages, .buildinfo and .changes are copied to ``/verifier/meta/kept``,
where `verifier debian` picks them up under their real names.

Every value put in the command is checked by a pattern first and then quoted."""

from __future__ import annotations

import shlex

from verifier.sandbox.script import META

BUILD_USER = "builder"
BUILD_UID = 2000
KEPT = f"{META}/kept"


def build_command(dsc_name: str, tree: str, flag: str) -> str:
    run = f"setpriv --reuid={BUILD_UID} --regid={BUILD_UID} --clear-groups --"
    return "\n".join([
        "set -e",
        f"grep -q '^{BUILD_USER}:' /etc/passwd || "
        f"echo '{BUILD_USER}:x:{BUILD_UID}:{BUILD_UID}:build user:/nonexistent:/bin/sh' >> /etc/passwd",
        f"grep -q '^{BUILD_USER}:' /etc/group || echo '{BUILD_USER}:x:{BUILD_UID}:' >> /etc/group",
        f"chown {BUILD_UID}:{BUILD_UID} .",
        f"export HOME=/nonexistent USER={BUILD_USER} LOGNAME={BUILD_USER}",
        f"{run} dpkg-source --no-check -x {shlex.quote(dsc_name)} {shlex.quote(tree)} > /dev/null",
        f"cd {shlex.quote(tree)}",
        "status=0",
        f"{run} dpkg-buildpackage -us -uc -rfakeroot {flag} || status=$?",
        "cd ..",
        "set +e",
        f"mkdir -p {KEPT}",
        f"for f in *.deb *.ddeb *.udeb *.buildinfo *.changes; do if [ -f \"$f\" ]; then cp -- \"$f\" {KEPT}/; fi; done",
        "exit $status",
    ])
