"""What runs inside the sandbox: the normalised environment and verifier's own build script.

``build.sh`` (written by verifier, never from an input) installs the lockfile's packages
when there are any, enters the workdir, runs the manifest's command from ``command.sh``
(never interpolated into our script) and lists the installed packages. Its own failures
exit with the ``ScriptExit`` codes below; any other status is the build command's.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from verifier.stages import BuildPreparation, FetchedInputs, InstalledPackage

META = "/verifier/meta"  # where the meta directory (build.sh, command.sh, installed.txt) is mounted


class ScriptExit(IntEnum):
    """build.sh's own exit statuses. Chosen below 125 (podman's own) and 126-128+n (the
    shell's); a build command that itself exits 97 or 98 is reported as one of these."""

    INSTALL_FAILED = 97  # the lockfile's install script failed (its last 20 lines are in the log)
    NO_WORKDIR = 98  # the manifest's workdir could not be entered


def build_environment(inputs: FetchedInputs) -> dict[str, str]:
    build = inputs.manifest.build
    env = dict(build.variables)
    env.update({
        "SOURCE_DATE_EPOCH": str(build.source_date_epoch), "TZ": "UTC", "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8", "HOME": "/root", "USER": "root", "LOGNAME": "root",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
    })
    return env


def build_script(inputs: FetchedInputs, preparation: BuildPreparation | None) -> str:
    workdir = inputs.manifest.build.workdir
    lines = ["umask 022"]
    if preparation is not None:
        lines += ["( " + preparation.install_script + " ) > " + META + "/install.log 2>&1 || "
                  "{ tail -n 20 " + META + "/install.log; echo 'verifier: installing the locked packages failed'; "
                  f"exit {int(ScriptExit.INSTALL_FAILED)}; }}"]
    lines += [f"cd '{workdir}' || exit {int(ScriptExit.NO_WORKDIR)}", "/bin/sh " + META + "/command.sh", "status=$?"]
    if preparation is not None:
        lines += ["( " + preparation.installed_query + " ) > " + META + "/installed.txt 2>/dev/null"]
    lines += ["exit $status"]
    return "\n".join(lines) + "\n"


def script_failure(exit_status: int | None, workdir: str) -> str | None:
    """The reason for one of build.sh's own failures, or None for any other status."""
    if exit_status == ScriptExit.INSTALL_FAILED:
        return "installing the locked packages failed"
    if exit_status == ScriptExit.NO_WORKDIR:
        return f"the build directory {workdir} could not be entered"
    return None


def read_installed(meta: Path) -> tuple[InstalledPackage, ...] | None:
    path = meta / "installed.txt"
    if not path.exists():
        return None
    packages = []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0]:
            packages.append(InstalledPackage(*fields))
    return tuple(sorted(packages, key=lambda p: (p.name, p.architecture)))
