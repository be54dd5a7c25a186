"""The hermetic rebuild with real podman and a busybox environment."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import stat
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from tests.fixtures_sandbox import cached, make_inputs
from verifier.cache import ContentCache
from verifier.errors import InputError, SandboxError
from verifier.manifest import Environment
from verifier.sandbox.backends import open_sandbox
from verifier.sandbox.environment import image_name
from verifier.sandbox.podman_sandbox import BUILD_LABEL
from verifier.sandbox.rebuild import rebuild
from verifier.sandbox.script import ScriptExit, build_script, script_failure
from verifier.stages import BuildPreparation, BuildStatus, Mount

pytestmark = pytest.mark.podman


def outputs(result) -> dict[str, str]:
    return {o.name: o.path.read_text() for o in result.outputs}


def test_network_is_off_inside(busybox_env, busybox_inputs, settings) -> None:
    cmd = ("mkdir -p out; ls /sys/class/net > out/ifaces.txt; "
           "if wget -q -T 2 -O /dev/null http://10.0.2.2/ 2>/dev/null; then echo reached; else echo unreachable; fi > out/net.txt")
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs(cmd))
    assert result.status == BuildStatus.SUCCEEDED, result.log_tail
    assert outputs(result)["ifaces.txt"].split() == ["lo"]
    assert outputs(result)["net.txt"].strip() == "unreachable"
    assert result.sandbox.network == "none" and "--network=none" in result.sandbox.argv


def test_environment_is_normalised(busybox_env, busybox_inputs, settings) -> None:
    cmd = "mkdir -p out; (umask; hostname; id -u; id -g; pwd; echo $SOURCE_DATE_EPOCH $TZ $LC_ALL; env | sort) > out/e.txt"
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs(cmd, variables={"FOO": "bar"}, source_date_epoch=1234))
    lines = outputs(result)["e.txt"].splitlines()
    assert lines[:6] == ["0022", "verifier-build", "0", "0", "/build/src", "1234 UTC C.UTF-8"]
    assert "FOO=bar" in lines
    assert not any(line.startswith("container=") for line in lines), "no variable from the image or podman"


def test_sources_unpacked_and_outputs_collected(busybox_env, busybox_inputs, settings, tmp_path) -> None:
    src = tmp_path / "proj"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("A")
    subprocess.run(["tar", "-C", str(tmp_path), "-czf", str(tmp_path / "proj.tar.gz"), "proj"], check=True)
    plain = tmp_path / "notes.txt"
    plain.write_text("plain")
    cmd = "mkdir -p out && cp proj/sub/a.txt out/a.txt && cp notes.txt out/n.txt && ln -s a.txt out/link.txt"
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs(cmd, sources=(tmp_path / "proj.tar.gz",), copied=(plain,)))
    assert outputs(result) == {"a.txt": "A", "n.txt": "plain"}
    assert any("link.txt" in n and "symlink (not followed)" in n for n in result.sandbox.output_notes)


def test_unmatched_glob_and_no_outputs(busybox_env, busybox_inputs, settings) -> None:
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("mkdir -p out; echo x > out/x", outputs=("out/*", "missing/*")))
    assert result.status == BuildStatus.SUCCEEDED and result.unmatched_globs == ("missing/*",)
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("true", outputs=("missing/*",)))
    assert result.status == BuildStatus.NO_OUTPUTS


def test_failing_build_reports_log_tail(busybox_env, busybox_inputs, settings) -> None:
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("echo compiling; echo 'error: it broke' >&2; exit 3"))
    assert result.status == BuildStatus.FAILED and result.exit_status == 3
    assert "error: it broke" in result.log_tail and "status 3" in result.reason
    assert "compiling" in result.log_path.read_text()
    assert result.log_errors == ("error: it broke",), "the first error-looking line, for the summary"


def test_timeout(busybox_env, busybox_inputs, settings) -> None:
    short = dataclasses.replace(settings, sandbox=dataclasses.replace(settings.sandbox, build_timeout=2))
    started = time.monotonic()
    result = rebuild(open_sandbox(short), busybox_env, busybox_inputs("sleep 60"))
    assert result.status == BuildStatus.TIMED_OUT and time.monotonic() - started < 30


def test_fork_bomb_is_contained(busybox_env, busybox_inputs, settings) -> None:
    limited = dataclasses.replace(settings, sandbox=dataclasses.replace(settings.sandbox, pids=64, build_timeout=60))
    bomb = "i=0; while [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done; wait"
    result = rebuild(open_sandbox(limited), busybox_env, busybox_inputs(bomb))
    assert result.status == BuildStatus.LIMIT_EXCEEDED, (result.status, result.log_tail)
    assert "process limit" in result.reason


def test_disk_fill_is_limited(busybox_env, busybox_inputs, settings) -> None:
    small = dataclasses.replace(settings, sandbox=dataclasses.replace(settings.sandbox, workdir_size="16m"))
    result = rebuild(open_sandbox(small), busybox_env, busybox_inputs("dd if=/dev/zero of=big bs=1M count=64"))
    assert result.status == BuildStatus.LIMIT_EXCEEDED and "disk" in result.reason


def test_preparation_runs_before_the_build_and_lists_packages(busybox_env, busybox_inputs, settings, tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pkg").write_text("payload")
    prep = BuildPreparation(
        mounts=(Mount(repo, "/verifier/repo"),),
        install_script="cp /verifier/repo/pkg /installed-pkg && ! touch /verifier/repo/x",
        installed_query="printf 'pkg\\t1.0\\tamd64\\n'",
    )
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("mkdir -p out; cp /installed-pkg out/p"), prep)
    assert result.status == BuildStatus.SUCCEEDED, result.log_tail
    assert outputs(result) == {"p": "payload"}
    assert [(p.name, p.version, p.architecture) for p in result.installed_packages] == [("pkg", "1.0", "amd64")]


def test_containers_are_removed(busybox_env, busybox_inputs, settings) -> None:
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("exit 1"))
    assert f"{BUILD_LABEL}={settings.build_label}" in result.sandbox.argv, "the test's own label was used"
    assert _own_containers(settings) == []


def test_interrupt_removes_the_container(busybox_rootfs, settings, tmp_path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        from pathlib import Path
        from tests.fixtures_sandbox import make_inputs
        from verifier.settings import Settings
        from verifier.sandbox.backends import open_sandbox
        from verifier.sandbox.rebuild import rebuild
        s = Settings(cache_dir=Path({str(settings.cache_dir)!r}), work_dir=Path({str(settings.work_dir)!r}),
                     build_label={settings.build_label!r})
        inputs = make_inputs(s, Path({str(busybox_rootfs)!r}), "echo started; sleep 120")
        env = open_sandbox(s).import_environment(inputs.environment)
        try:
            rebuild(open_sandbox(s), env, inputs)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not _own_containers(settings):
            time.sleep(0.2)
        assert _own_containers(settings), "the build container should be running"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "interrupted" in out
    assert _own_containers(settings) == []


def _own_containers(settings) -> list[str]:
    """Containers this test started (its per-test label value), running or not; never other runs' builds."""
    return subprocess.run(["podman", "ps", "-a", "--filter", f"label={BUILD_LABEL}={settings.build_label}", "-q"],
                          capture_output=True, text=True, check=True).stdout.split()


def test_environment_cache_hit_is_fast(busybox_env, busybox_inputs, settings) -> None:
    inputs = busybox_inputs("true")
    started = time.monotonic()
    again = open_sandbox(settings).import_environment(inputs.environment)
    assert again.reused and again.image == busybox_env.image
    assert time.monotonic() - started < 1.0


def test_corrupt_environment_archive(settings, tmp_path) -> None:
    bad = tmp_path / "env.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(2000))
    inputs = make_inputs(settings, bad, "true")
    with pytest.raises(InputError, match="env.tar.gz"):
        open_sandbox(settings).import_environment(inputs.environment)


def test_environment_archive_escaping_its_root(settings, tmp_path) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    inputs = make_inputs(settings, evil, "true")
    with pytest.raises(InputError, match="escapes the archive root"):
        open_sandbox(settings).import_environment(inputs.environment)


def test_source_archive_with_outside_symlink_is_refused(busybox_env, busybox_inputs, settings, tmp_path) -> None:
    evil = tmp_path / "src.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("p/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(InputError, match="points outside the archive"):
        rebuild(open_sandbox(settings), busybox_env, busybox_inputs("true", sources=(evil,)))


def test_missing_podman(busybox_inputs, settings) -> None:
    broken = dataclasses.replace(settings, podman="/nonexistent/podman")
    with pytest.raises(SandboxError, match="podman not found"):
        open_sandbox(broken).import_environment(busybox_inputs("true").environment)


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_image_archives_are_loaded_by_digest(busybox_env, busybox_inputs, settings, tmp_path, fmt) -> None:
    # A tag of the test's own (its label value) makes the saved archive, hence the image named
    # by its digest, this test's alone: removing it cannot pull an image from under a parallel run.
    own_tag = f"localhost/verifier-test-image:{settings.build_label}"
    archive = tmp_path / f"image-{fmt}.tar"
    subprocess.run(["podman", "tag", busybox_env.image, own_tag], check=True)
    try:
        subprocess.run(["podman", "save", "--quiet", "--format", fmt, "-o", str(archive), own_tag], check=True)
        env_file = cached(ContentCache(settings.cache_dir), archive, Environment, format=fmt)
        try:
            prepared = open_sandbox(settings).import_environment(env_file)
            assert prepared.image.endswith(env_file.pin.sha256) and prepared.format == fmt and not prepared.reused
            result = rebuild(open_sandbox(settings), prepared, busybox_inputs("mkdir -p out && echo loaded > out/x"))
            assert result.status == BuildStatus.SUCCEEDED and outputs(result) == {"x": "loaded\n"}
        finally:
            subprocess.run(["podman", "rmi", image_name(env_file.pin.sha256)], capture_output=True)
    finally:
        subprocess.run(["podman", "rmi", own_tag], capture_output=True)  # `podman load` tagged it again


def test_not_an_image_archive(settings, tmp_path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an image" * 100)
    env_file = cached(ContentCache(settings.cache_dir), junk, Environment, format="oci-archive")
    with pytest.raises(InputError, match="junk.tar: not a loadable oci-archive"):
        open_sandbox(settings).import_environment(env_file)


def test_outputs_are_plain_files_and_mounts_nosuid_nodev(busybox_env, busybox_inputs, settings) -> None:
    cmd = ("mkdir -p out; echo suid > out/suid; chmod 6755 out/suid; mkfifo out/fifo; "
           "mknod out/null c 1 3 || echo 'mknod refused'; "
           "grep -E ' (/build/src|/tmp|/verifier/meta) ' /proc/mounts > out/mounts.txt")
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs(cmd))
    assert result.status == BuildStatus.SUCCEEDED, result.log_tail
    assert sorted(o.name for o in result.outputs) == ["mounts.txt", "suid"]
    assert "mknod refused" in result.log_tail, "no device node can be made (CAP_MKNOD dropped)"
    notes = "\n".join(result.sandbox.output_notes)
    assert "fifo: matched 'out/*' but is a FIFO (refused); not collected" in notes
    assert "suid: setuid/setgid/sticky bits (-rwsr-sr-x) dropped" in notes
    suid = next(o for o in result.outputs if o.name == "suid")
    assert stat.S_IMODE(suid.path.stat().st_mode) == 0o644 and suid.path.read_text() == "suid\n"
    mounts = outputs(result)["mounts.txt"].splitlines()
    assert len(mounts) == 3 and all("nosuid" in m.split()[3] and "nodev" in m.split()[3] for m in mounts), mounts
    for path in suid.path.parent.iterdir():  # nothing but plain files reached the host's outputs
        assert stat.S_ISREG(path.lstat().st_mode) and not path.lstat().st_mode & 0o7000


def test_failed_package_installation_is_named(busybox_env, busybox_inputs, settings) -> None:
    prep = BuildPreparation(mounts=(), install_script="echo 'E: Unable to locate package gcc-99'; false",
                            installed_query="true")
    result = rebuild(open_sandbox(settings), busybox_env, busybox_inputs("mkdir -p out; echo x > out/x"), prep)
    assert result.status == BuildStatus.FAILED and result.exit_status == ScriptExit.INSTALL_FAILED
    assert result.reason.startswith("installing the locked packages failed: ")
    assert "Unable to locate package gcc-99" in result.log_tail and result.outputs == ()


def test_build_script_names_its_own_exit_codes(busybox_inputs) -> None:
    script = build_script(busybox_inputs("true"), BuildPreparation((), "true", "true"))
    assert f"exit {int(ScriptExit.INSTALL_FAILED)}" in script and f"exit {int(ScriptExit.NO_WORKDIR)}" in script
    assert script_failure(ScriptExit.NO_WORKDIR, "/build/src") == "the build directory /build/src could not be entered"
    assert script_failure(3, "/build/src") is None
