"""Import a pinned environment archive into podman as an image named by its digest.

A rootfs tar (plain, .gz, .xz, .zst) is checked member by member, then imported with
``podman import``; an OCI or docker archive is loaded with ``podman load`` and tagged.
An image already present under the digest name is reused (one ``podman image inspect``).
The image's own configuration (entrypoint, env, volumes, user) is never used: the
rebuild passes every run flag itself.
"""

from __future__ import annotations

import re

from verifier.errors import InputError, SandboxError, where
from verifier.sandbox.archive import check_archive
from verifier.sandbox.podman import Podman, last_line
from verifier.sandbox.runtime import choose_runtime
from verifier.settings import Settings
from verifier.stages import CachedFile, PreparedEnvironment

IMAGE_REPOSITORY = "localhost/verifier-env"
DIGEST_LABEL = "io.verifier.archive-sha256"


def image_name(sha256: str) -> str:
    return f"{IMAGE_REPOSITORY}:{sha256}"


def _existing_image(podman: Podman, name: str, sha256: str) -> str | None:
    done = podman.run(["image", "inspect", "--format", "{{.Id}} {{index .Labels \"" + DIGEST_LABEL + "\"}}", name],
                      check=False, what="podman image inspect")
    if done.returncode != 0:
        return None
    image_id, _, label = done.stdout.strip().partition(" ")
    return image_id if label.strip() == sha256 else None


def _import_rootfs(podman: Podman, cached: CachedFile, name: str, settings: Settings) -> None:
    check_archive(cached.path, cached.pin.name, settings.unpack)
    podman.run(["import", "--quiet", "--change", f"LABEL {DIGEST_LABEL}={cached.pin.sha256}",
                str(cached.path), name], timeout=3600, what=cached.pin.name)


def _load_image_archive(podman: Podman, cached: CachedFile, name: str) -> None:
    done = podman.run(["load", "--quiet", "--input", str(cached.path)], check=False, timeout=3600,
                      what=cached.pin.name)
    if done.returncode != 0:
        raise InputError(where(cached.pin.name, f"not a loadable {cached.pin.format}: {last_line(done.stderr)}"))
    loaded = re.findall(r"Loaded image(?:\(s\))?:\s*(\S+)", done.stdout)
    if len(loaded) != 1:
        raise InputError(where(cached.pin.name, f"expected exactly one image in the archive, found {len(loaded)}"))
    source = loaded[0].split(",")[0]
    # Re-commit under our name with our label: build a fresh image from the loaded one's rootfs.
    container = podman.run(["create", "--entrypoint", "/bin/true", source], what=cached.pin.name).stdout.strip()
    try:
        podman.run(["commit", "--quiet", "--change", f"LABEL {DIGEST_LABEL}={cached.pin.sha256}",
                    container, name], what=cached.pin.name)
    finally:
        podman.run(["rm", "--force", container], check=False)


def prepare_environment(podman: Podman, cached: CachedFile, settings: Settings) -> PreparedEnvironment:
    version = podman.version()
    name = image_name(cached.pin.sha256)
    image_id = _existing_image(podman, name, cached.pin.sha256)
    reused = image_id is not None
    if not reused:
        fmt = getattr(cached.pin, "format", "rootfs")
        if fmt == "rootfs":
            _import_rootfs(podman, cached, name, settings)
        else:
            _load_image_archive(podman, cached, name)
        image_id = _existing_image(podman, name, cached.pin.sha256)
        if image_id is None:
            raise SandboxError(where(cached.pin.name, f"image {name} missing right after import"))
    runtime = choose_runtime(podman, settings, probe_image=name)
    return PreparedEnvironment(
        image=name, image_id=image_id, archive_sha256=cached.pin.sha256,
        format=getattr(cached.pin, "format", "rootfs"), reused=reused, runtime=runtime,
        podman_version=version,
    )
