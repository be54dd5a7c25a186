"""The release manifest: parsing, schema errors naming the field, URL resolution rules."""

from __future__ import annotations

import copy
import json

import pytest

from verifier.errors import InputError
from verifier.manifest import parse, to_document

SHA = "a" * 64

VALID = {
    "manifest_version": 1,
    "name": "hello",
    "version": "1.0",
    "environment": {"name": "env.tar.zst", "url": "env/env.tar.zst", "sha256": SHA, "size": 10, "format": "rootfs"},
    "lockfile": None,
    "sources": [{"name": "hello-1.0.tar.gz", "url": "sources/hello-1.0.tar.gz", "sha256": SHA, "size": 5, "unpack": True}],
    "build": {"command": "make dist", "workdir": "/build/src", "outputs": ["dist/*"],
              "source_date_epoch": 1700000000, "variables": {"CFLAGS": "-O2"}},
    "artifacts": [{"name": "hello.tar.gz", "url": "artifacts/hello.tar.gz", "sha256": SHA, "size": 7}],
}


def encode(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_relative_urls_resolve_against_the_manifest_url() -> None:
    m = parse(encode(VALID), "http://127.0.0.1:8000/rel/release.json")
    assert m.environment.url == "http://127.0.0.1:8000/rel/env/env.tar.zst"
    assert m.sources[0].url == "http://127.0.0.1:8000/rel/sources/hello-1.0.tar.gz"
    assert m.build.outputs == ("dist/*",)
    assert m.build.variables == {"CFLAGS": "-O2"}


def test_local_manifest_resolves_to_file_urls(tmp_path) -> None:
    m = parse(encode(VALID), str(tmp_path / "release.json"))
    assert m.artifacts[0].url == (tmp_path / "artifacts" / "hello.tar.gz").as_uri()


def test_round_trip_through_to_document() -> None:
    base = "http://127.0.0.1:8000/rel/"
    m = parse(encode(VALID), base + "release.json")
    assert to_document(m, relative_to=base) == VALID


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["environment"].update(sha256="ABC"), "field environment.sha256"),
        (lambda d: d["build"].pop("command"), "field build: 'command' is a required property"),
        (lambda d: d["artifacts"][0].update(size=-1), "field artifacts[0].size"),
        (lambda d: d.update(extra=1), "Additional properties"),
        (lambda d: d["build"].update(workdir="relative"), "field build.workdir"),
        (lambda d: d["build"]["variables"].update({"BAD NAME": "x"}), "field build.variables"),
        (lambda d: d["artifacts"].append(dict(d["artifacts"][0])), "duplicate name 'hello.tar.gz'"),
        (lambda d: d["sources"][0].update(name="../x"), "field sources[0].name"),
    ],
)
def test_schema_violations_name_the_field(mutate, message) -> None:
    doc = copy.deepcopy(VALID)
    mutate(doc)
    with pytest.raises(InputError) as err:
        parse(encode(doc), "release.json")
    assert str(err.value).startswith("release.json: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_schema_version_is_refused() -> None:
    with pytest.raises(InputError, match="unsupported manifest_version 2"):
        parse(encode({**VALID, "manifest_version": 2}), "release.json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a": 1, "a": 2}', "duplicate JSON key 'a'"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"manifest_version": NaN}', "invalid JSON constant NaN"),
        (b"[" * 100000, "nested too deeply"),
    ],
)
def test_malformed_documents(data, message) -> None:
    with pytest.raises(InputError, match=message):
        parse(data, "release.json")


def test_remote_manifest_cannot_point_at_local_files() -> None:
    doc = copy.deepcopy(VALID)
    doc["sources"][0]["url"] = "file:///etc/passwd"
    with pytest.raises(InputError, match="read from a remote URL may not name a local file"):
        parse(encode(doc), "https://127.0.0.1/release.json")


def test_other_url_schemes_are_refused() -> None:
    doc = copy.deepcopy(VALID)
    doc["environment"]["url"] = "ftp://127.0.0.1/env.tar"
    with pytest.raises(InputError, match="scheme 'ftp' not allowed"):
        parse(encode(doc), "https://127.0.0.1/release.json")
