"""The first error-looking lines of a real build log (make, a compiler, a test suite), as a
failed build's summary shows them (verifier/sandbox/log.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import require_tool
from verifier.sandbox.log import ERROR_LINES, first_errors

MAKEFILE = """\
all: check
build:
\t@echo 'gcc -O2 -Werror=format-security -c x.c'
\t@echo '# XFAIL: 0'
\t@echo '# FAIL:  0'
check: build
\t@for t in t1 t2; do echo "PASS: $$t"; done
\t@echo 'FAIL: t3'
\t@cc -c broken.c -o broken.o
"""


def _log(tmp_path: Path) -> Path:
    require_tool("make")
    require_tool("cc")
    (tmp_path / "Makefile").write_text(MAKEFILE)
    (tmp_path / "broken.c").write_text("int f(void) { return undeclared_thing; }\n")
    log = tmp_path / "build.log"
    with open(log, "wb") as out:
        done = subprocess.run(["make", "-C", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT)
        out.write(b"cleanup\n" * 500)
    assert done.returncode != 0
    return log


def test_a_failed_make_gives_its_first_error_lines(tmp_path: Path) -> None:
    errors = first_errors(_log(tmp_path))
    assert errors[0] == "FAIL: t3"
    assert any("error:" in e and "undeclared_thing" in e for e in errors), errors
    assert any(e.startswith("make: *** [Makefile:") for e in errors), errors
    assert not any("Werror" in e or "FAIL:  0" in e or "PASS" in e or "cleanup" in e for e in errors), errors
    assert len(errors) <= ERROR_LINES


def test_a_log_without_errors_gives_none(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("gcc -Werror=format-security -c x.c\n# FAIL:  0\nPASS: t1\n" * 1000)
    assert first_errors(log) == ()
    assert first_errors(tmp_path / "missing.log") == ()
