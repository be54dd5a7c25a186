#!/usr/bin/env python3
"""Benchmark: verifier's pinned fetch of a large file from loopback vs `curl -o` of the same file.

Both download from the same server (sendfile-based, so the server is not the bottleneck)
in the same run; verifier also hashes what it receives and fsyncs before committing.
`openssl dgst -sha256` of the file is printed as the hashing reference.

    .venv/bin/python benchmarks/fetch.py [--mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from verifier.cache import ContentCache  # noqa: E402
from verifier.fetch import fetch_file  # noqa: E402
from verifier.manifest import PinnedFile  # noqa: E402
from verifier.settings import FetchLimits, Settings  # noqa: E402


def serve(path: Path) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            size = path.stat().st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(path, "rb") as f:
                self.connection.sendfile(f)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verifier-fetch-bench-"))
    try:
        big = tmp / "big.bin"
        h = hashlib.sha256()
        with open(big, "wb") as f:
            for _ in range(args.mib):
                block = os.urandom(1 << 20)
                h.update(block)
                f.write(block)
        server = serve(big)
        url = f"http://127.0.0.1:{server.server_address[1]}/big.bin"
        pin = PinnedFile("big.bin", url, h.hexdigest(), big.stat().st_size)

        def ours() -> None:
            cache_dir = tmp / "cache"
            shutil.rmtree(cache_dir, ignore_errors=True)
            # the server is on loopback: allowed explicitly, as --allow-private-addresses does
            settings = Settings(cache_dir=cache_dir, fetch=FetchLimits(allow_private_addresses=True))
            fetch_file(pin, ContentCache(cache_dir), settings)

        def curl() -> None:
            subprocess.run(["curl", "-sS", "-o", str(tmp / "curl.bin"), url], check=True)

        def openssl() -> None:
            subprocess.run(["openssl", "dgst", "-sha256", str(big)], check=True, capture_output=True)

        t_curl = statistics.median(timed(curl) for _ in range(args.runs))
        t_ours = statistics.median(timed(ours) for _ in range(args.runs))
        t_hash = statistics.median(timed(openssl) for _ in range(args.runs))
        print(f"file: {args.mib} MiB over loopback, medians of {args.runs} runs")
        print(f"curl -o:                 {t_curl:.2f} s ({args.mib / t_curl:.0f} MiB/s)")
        print(f"verifier fetch (+sha256, fsync): {t_ours:.2f} s ({args.mib / t_ours:.0f} MiB/s)")
        print(f"openssl dgst -sha256:    {t_hash:.2f} s")
        print(f"ratio verifier/curl: {t_ours / t_curl:.2f}x (goal: within 1.2x)")
        server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
