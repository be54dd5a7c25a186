"""What every lockfile format is read into: the packages a build environment must have."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    architecture: str
    url: str | None = None  # absolute; None when the format names no location (buildinfo)
    size: int | None = None
    sha256: str | None = None
    sigmd5: str | None = None  # RPM header+payload MD5 (mock lockfiles carry no sha256)

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.architecture


@dataclass(frozen=True)
class LockedEnvironment:
    format: str  # verifier | buildinfo | mock
    package_manager: str  # apt | rpm
    packages: tuple[LockedPackage, ...]
    source_date_epoch: int | None = None
    build_path: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    signature: str = "not signed"  # or what was checked about a clear-signed document
