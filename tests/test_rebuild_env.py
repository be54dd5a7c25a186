"""Issue 12: `verify --rebuild-env` on the fake sandbox with a fake environment builder (the
real one, mmdebstrap, is tests/test_rebuild_env_real.py): one case per environment_check
status, the verdict each gives, the lock from the manifest or --env-lock, and bad input
(a lock that is not a lock, a lock whose digest is not its pin, an environment that is no
rootfs). Milliseconds per case."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.test_pipeline import A, pin, release
from verifier.cache import ContentCache
from verifier.environments.build import BuiltEnvironment, PackageCache, PinUnavailable
from verifier.environments.lock import EnvLock, EnvRequest, InstalledPackage, Pin, ReleaseRecord, lock_json
from verifier.environments.step import EnvCheckOptions
from verifier.errors import ExitCode, InputError, IntegrityError
from verifier.pipeline import VerifyOptions, verify
from verifier.render import render
from verifier.render.formats import ReportFormat
from verifier.sandbox.fake import FakeBuild, FakeSandbox
from verifier.settings import Settings
from verifier.stages import Verdict

EPOCH = 1700000000
HELLO = b"\x7fELF hello, world\n"
STATUS = (b"Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n\n"
          b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u13\nArchitecture: amd64\n")


def rootfs(hello: bytes = HELLO, status: bytes = STATUS, extra: dict[str, tuple[bytes, int]] | None = None,
           device: str | None = None) -> bytes:
    """A tiny rootfs tar, the same bytes for the same arguments (``device``: a char device
    member, read as data, never created)."""
    members = {"./usr/bin/hello": (hello, 0o755), "./var/lib/dpkg/status": (status, 0o644),
               "./var/lib/dpkg/info/hello.list": (b"/.\n/usr\n/bin\n/bin/hello\n", 0o644),
               "./var/lib/dpkg/info/hello.md5sums": (hashlib.md5(HELLO).hexdigest().encode() + b"  bin/hello\n", 0o644),
               **(extra or {})}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, (data, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, EPOCH
            tar.addfile(info, io.BytesIO(data))
        merged = tarfile.TarInfo("./bin")  # merged /usr: dpkg's bin/hello is the archive's usr/bin/hello
        merged.type, merged.linkname, merged.mtime = tarfile.SYMTYPE, "usr/bin", EPOCH
        tar.addfile(merged)
        if device:
            node = tarfile.TarInfo(device)
            node.type, node.mode, node.mtime, node.devmajor, node.devminor = tarfile.CHRTYPE, 0o666, EPOCH, 1, 3
            tar.addfile(node)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def env_lock(env_sha256: str) -> EnvLock:
    request = EnvRequest("bookworm", "http://mirror.invalid/debian", "minbase", "amd64", EPOCH, (Pin("hello", "2.10-3"),))
    packages = (InstalledPackage("hello", "2.10-3", "amd64", "a" * 64),
                InstalledPackage("libc6", "2.36-9+deb12u13", "amd64", "b" * 64))
    return EnvLock(request, ReleaseRecord("InRelease", "c" * 64, "Sat, 11 Jul 2026 10:16:37 UTC", ("F" * 40,), "/k.gpg"),
                   packages, env_sha256, (("mmdebstrap", "1.3.5"),), "verifier env build --lockfile env.lock.json")


@dataclass
class FakeBuilder:
    """Writes ``rebuilt`` as the environment rebuilt from a lock; records what it was asked."""

    rebuilt: bytes = field(default_factory=rootfs)
    fails_with: Exception | None = None
    calls: list[tuple[EnvRequest, tuple[Pin, ...]]] = field(default_factory=list)
    caches: list[PackageCache | None] = field(default_factory=list)

    def __call__(self, request: EnvRequest, out: Path, lock_path: Path, settings: Settings, *,
                 versions: tuple[Pin, ...] = (), packages_from: PackageCache | None = None,
                 locked: tuple[InstalledPackage, ...] = ()) -> BuiltEnvironment:
        self.calls.append((request, tuple(Pin(p.name, p.version) for p in locked) + versions))
        self.caches.append(packages_from)
        if self.fails_with is not None:
            raise self.fails_with
        out.write_bytes(self.rebuilt)
        lock = replace(env_lock(sha(self.rebuilt)), request=request)
        lock_path.write_bytes(lock_json(lock))
        return BuiltEnvironment(out, lock_path, lock)


def env_release(tmp: Path, published: bytes = rootfs(), with_lock: bool = True) -> Path:
    manifest = release(tmp, {"a.txt": A})
    (tmp / "env.tar").write_bytes(published)
    (tmp / "env.lock.json").write_bytes(lock_json(env_lock(sha(rootfs()))))
    doc = json.loads(manifest.read_text())
    doc["environment"] = pin(tmp / "env.tar", format="rootfs",
                             **({"lock": pin(tmp / "env.lock.json")} if with_lock else {}))
    manifest.write_text(json.dumps(doc))
    return manifest


def run(settings: Settings, manifest: Path, builder: FakeBuilder, check: EnvCheckOptions | None = EnvCheckOptions()):
    options = VerifyOptions(report_path=settings.work_dir / "report.json", rebuild_env=check)
    outcome = verify(str(manifest), settings, FakeSandbox(settings, FakeBuild({"out/a.txt": A})),
                     ContentCache(settings.cache_dir), options, env_builder=builder)
    return outcome, json.loads(outcome.report_path.read_text())


def test_rebuilt_identical_keeps_the_release_reproducible(settings: Settings, tmp_path: Path) -> None:
    builder = FakeBuilder()
    outcome, doc = run(settings, env_release(tmp_path / "rel"), builder)
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, outcome.verdict.reasons
    check = doc["environment_check"]
    assert check["status"] == "REBUILT-IDENTICAL" and check["files"] == [] and check["packages"] == []
    assert check["published_sha256"] == check["rebuilt_sha256"] == sha(rootfs())
    assert check["lock"]["name"] == "env.lock.json" and "environment_check" in doc["timings"]
    (request, versions), = builder.calls
    assert versions == (Pin("hello", "2.10-3"), Pin("libc6", "2.36-9+deb12u13")), \
        "every package the lock records is pinned, minbase's own included"
    assert doc["inputs"]["environment"]["lock"]["name"] == "env.lock.json"
    cache, = builder.caches
    assert cache is not None and cache.cache.root == settings.cache_dir, "the lock's .debs come from verify's cache"
    assert [p.sha256 for p in cache.known] == ["a" * 64, "b" * 64]


def test_a_planted_file_makes_the_release_different_naming_file_and_package(settings: Settings,
                                                                            tmp_path: Path) -> None:
    tampered = rootfs(hello=b"\x7fELF hello, trust\n", extra={"./usr/local/bin/helper": (b"#!\n", 0o4755)},
                      status=STATUS + b"\nPackage: netcat\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n",
                      device="./usr/local/kmem")
    outcome, doc = run(settings, env_release(tmp_path / "rel", tampered), FakeBuilder())
    assert outcome.verdict.verdict == Verdict.DIFFERENT, "the artifacts are identical, the environment is not"
    assert outcome.verdict.reasons[0].startswith("the published environment is not what its lock rebuilds")
    check = doc["environment_check"]
    assert check["status"] == "DIFFERENT"
    files = {f["name"]: (f["package"], f["change"]) for f in check["files"]}
    assert files["usr/bin/hello"] == ("hello", "content differs")
    assert files["usr/local/bin/helper"] == ("no package (made while installing)",
                                             "only in the published archive (file setuid/setgid, mode 4755)")
    assert files["usr/local/kmem"] == ("no package (made while installing)", "only in the published archive (char, mode 0666)")
    assert "packages whose files differ: hello" in check["reason"]
    assert check["packages"] == [
        {"name": "netcat", "architecture": "amd64", "lock": None, "installed": "1.0", "note": ""},
        {"name": "hello", "architecture": "amd64", "lock": "2.10-3", "installed": "2.10-3",
         "note": "files differ from its dpkg md5sums: bin/hello"}]
    text = render(outcome.report, ReportFormat.TEXT)
    assert "Environment check" in text and "usr/local/bin/helper" in text


def test_no_lock_is_not_checked_and_inconclusive(settings: Settings, tmp_path: Path) -> None:
    builder = FakeBuilder()
    outcome, doc = run(settings, env_release(tmp_path / "rel", with_lock=False), builder)
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert "names no environment lock" in outcome.verdict.reasons[0]
    assert doc["environment_check"]["status"] == "NOT-CHECKED" and builder.calls == []


def test_a_version_the_archive_no_longer_has_is_not_checked_naming_it(settings: Settings, tmp_path: Path) -> None:
    gone = PinUnavailable("http://mirror.invalid/debian bookworm: the archive no longer has package "
                          "libc6=2.36-9+deb12u13 (it has 2.36-9+deb12u14)")
    outcome, doc = run(settings, env_release(tmp_path / "rel"), FakeBuilder(fails_with=gone))
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert "libc6=2.36-9+deb12u13" in doc["environment_check"]["reason"]
    assert "libc6=2.36-9+deb12u13" in outcome.verdict.reasons[0]


def test_env_lock_replaces_the_manifests_lock(settings: Settings, tmp_path: Path) -> None:
    manifest = env_release(tmp_path / "rel", with_lock=False)
    mine = tmp_path / "mine.lock.json"
    mine.write_bytes(lock_json(env_lock(sha(rootfs()))))
    outcome, doc = run(settings, manifest, FakeBuilder(), EnvCheckOptions(lock=mine, mirror="http://other.invalid/debian/"))
    assert doc["environment_check"]["status"] == "REBUILT-IDENTICAL"
    assert doc["environment_check"]["lock"]["url"] == mine.resolve().as_uri()
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE


def test_offline_is_not_checked_but_still_reads_the_package_manifest(settings: Settings, tmp_path: Path) -> None:
    extra = STATUS + b"\nPackage: netcat\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n"
    manifest = env_release(tmp_path / "rel", rootfs(status=extra))
    builder = FakeBuilder()
    outcome, doc = run(replace(settings, offline=False), manifest, builder, EnvCheckOptions())  # warm the cache
    outcome, doc = run(replace(settings, offline=True), manifest, builder)
    assert doc["environment_check"]["status"] == "NOT-CHECKED" and "--offline" in doc["environment_check"]["reason"]
    assert [p["name"] for p in doc["environment_check"]["packages"]] == ["netcat"]
    assert len(builder.calls) == 1
    # the artifacts match, but an environment nobody rebuilt cannot make the release REPRODUCIBLE
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE and doc["verdict"] == "INCONCLUSIVE"
    assert "--offline" in outcome.verdict.reasons[0]


def test_without_rebuild_env_the_report_has_no_section(settings: Settings, tmp_path: Path) -> None:
    builder = FakeBuilder()
    outcome, doc = run(settings, env_release(tmp_path / "rel"), builder, check=None)
    assert "environment_check" not in doc and "environment_check" not in doc["timings"] and builder.calls == []
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE


@pytest.mark.parametrize("bad", [b"", b"[]", b'{"format": "verifier-env-lock", "version": 2}', b"hello=2.10-3\n"])
def test_a_lock_that_is_not_a_lock_is_one_line_exit_2(settings: Settings, tmp_path: Path, bad: bytes) -> None:
    manifest = env_release(tmp_path / "rel")
    (tmp_path / "rel" / "env.lock.json").write_bytes(bad)
    doc = json.loads(manifest.read_text())
    doc["environment"]["lock"] = pin(tmp_path / "rel" / "env.lock.json")
    manifest.write_text(json.dumps(doc))
    with pytest.raises(InputError) as error:
        run(settings, manifest, FakeBuilder())
    assert error.value.exit_code == ExitCode.BAD_INPUT and "not an environment lock" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_lock_whose_digest_is_not_its_pin_is_exit_4(settings: Settings, tmp_path: Path) -> None:
    manifest = env_release(tmp_path / "rel")
    (tmp_path / "rel" / "env.lock.json").write_bytes(lock_json(env_lock("d" * 64)))
    with pytest.raises(IntegrityError) as error:
        run(settings, manifest, FakeBuilder())
    assert error.value.exit_code == ExitCode.INTEGRITY and "env.lock.json: digest mismatch" in str(error.value)


def test_an_environment_that_is_no_rootfs_is_exit_2(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        run(settings, env_release(tmp_path / "rel", b"\x28\xb5\x2f\xfd garbage"), FakeBuilder())
    assert "env.tar: not a readable rootfs tar archive" in str(error.value)


def publish_with_lock(settings: Settings, tmp: Path, lock: EnvLock) -> Path:
    from verifier.publish import PublishRequest, publish

    tmp.mkdir(parents=True)
    (tmp / "env.tar").write_bytes(rootfs())
    (tmp / "env.lock.json").write_bytes(lock_json(lock))
    (tmp / "src.txt").write_text("source\n")
    request = PublishRequest(name="fake", version="1", environment=tmp / "env.tar", sources=(),
                             copied_sources=(tmp / "src.txt",), command="make", outputs=("out/*",),
                             source_date_epoch=EPOCH, out_dir=tmp / "published",
                             environment_lock=tmp / "env.lock.json")
    outcome = publish(request, settings, FakeSandbox(settings, FakeBuild({"out/a.txt": A})),
                      ContentCache(settings.cache_dir))
    return outcome.manifest_path


def test_publish_puts_the_environment_lock_into_the_release(settings: Settings, tmp_path: Path) -> None:
    manifest = publish_with_lock(settings, tmp_path / "pub", env_lock(sha(rootfs())))
    doc = json.loads(manifest.read_text())
    assert doc["environment"]["lock"]["url"] == "environment/env.lock.json"
    assert (manifest.parent / "environment" / "env.lock.json").read_bytes() == (tmp_path / "pub" / "env.lock.json").read_bytes()
    outcome, report = run(settings, manifest, FakeBuilder())
    assert report["environment_check"]["status"] == "REBUILT-IDENTICAL"
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, outcome.verdict.reasons


def test_publish_refuses_a_lock_of_another_environment(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        publish_with_lock(settings, tmp_path / "pub", env_lock("e" * 64))
    assert error.value.exit_code == ExitCode.BAD_INPUT
    assert f"env.lock.json: records environment sha256 {'e' * 64}, not env.tar's" in str(error.value)
    assert not (tmp_path / "pub" / "published").exists()


@pytest.mark.parametrize("env_args", [[], ["--env", "e.tar", "--env-packages", "hello=2.10-3"],
                                      ["--env-packages", "hello=2.10-3", "--env-lock", "l.json"]])
def test_publish_takes_one_environment_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       env_args: list[str]) -> None:
    from verifier.cli.app import run as cli

    code = cli(["publish", "--build", "true", "--output", "o", "--source-date-epoch", "1", "--out", str(tmp_path / "o"),
                "--work-dir", str(tmp_path / "w"), *env_args])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT and "give --env ARCHIVE [--env-lock LOCK] or --env-packages LIST" in err
    assert len(err.strip().splitlines()) == 1


def test_a_huge_dpkg_database_file_is_refused_not_held_in_memory(settings: Settings, tmp_path: Path) -> None:
    import subprocess

    from verifier.environments.check import read_published
    from verifier.environments.rootfs import MAX_DPKG_FILE

    plain = rootfs(status=b"\0" * (MAX_DPKG_FILE + 1))
    archive = tmp_path / "env.tar.zst"
    archive.write_bytes(subprocess.run(["zstd", "-q", "-c"], input=plain, check=True, capture_output=True).stdout)
    with pytest.raises(InputError) as error:
        read_published(archive, settings, "env.tar.zst")
    assert str(error.value) == "env.tar.zst: var/lib/dpkg/status: a dpkg database file larger than 64 MiB"


@pytest.mark.parametrize(("args", "says"), [
    (["--env-lock", "{tmp}/missing.json"], "{tmp}/missing.json: no such environment lock file"),
    (["--rebuild-env", "--env-lock", "{tmp}/rel/env.tar"], "{tmp}/rel/env.tar: not an environment lock"),
])
def test_verify_cli_env_lock_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        args: list[str], says: str) -> None:
    """The CLI wiring: --env-lock implies --rebuild-env; the lock is read before the environment is imported."""
    from verifier.cli.app import run as cli

    manifest = env_release(tmp_path / "rel", with_lock=False)
    code = cli(["verify", str(manifest), "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"),
                *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert says.format(tmp=tmp_path) in err and len(err.strip().splitlines()) == 1


def test_a_lock_naming_the_published_digest_does_not_make_a_different_rebuild_identical(settings: Settings,
                                                                                        tmp_path: Path) -> None:
    """The lock's env_sha256 is the publisher's claim: only the rebuild's bytes count."""
    manifest = env_release(tmp_path / "rel")  # its lock records the published archive's sha256
    outcome, doc = run(settings, manifest, FakeBuilder(rebuilt=rootfs(hello=b"\x7fELF another hello\n")))
    assert json.loads((tmp_path / "rel" / "env.lock.json").read_text())["env_sha256"] == sha(rootfs())
    assert doc["environment_check"]["status"] == "DIFFERENT" and outcome.verdict.verdict == Verdict.DIFFERENT
    assert doc["environment_check"]["files"][0]["name"] == "usr/bin/hello"


def test_a_lock_recording_another_digest_is_identical_when_the_rebuild_is_with_a_note(settings: Settings,
                                                                                      tmp_path: Path) -> None:
    manifest = env_release(tmp_path / "rel", with_lock=False)
    mine = tmp_path / "mine.lock.json"
    mine.write_bytes(lock_json(env_lock("c" * 64)))
    outcome, doc = run(settings, manifest, FakeBuilder(), EnvCheckOptions(lock=mine))
    assert doc["environment_check"]["status"] == "REBUILT-IDENTICAL"
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE
    assert f"(note: the lock records sha256 {'c' * 64}, not the published archive's)" in doc["environment_check"]["reason"]
