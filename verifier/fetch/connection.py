"""HTTP(S) connections that connect only to checked addresses, under a watchdog.

Each new connection resolves its host once, checks every address against the
``AddressPolicy`` and connects to one of those very addresses: no second lookup, so no
DNS-rebinding window. The Host header, SNI and certificate checks still use the name.
A ``Watchdog`` holds a duplicate of every socket of its pool and shuts them all down
when its timer expires, which unblocks any read, however slowly the peer trickles.
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from verifier.fetch.addresses import AddressPolicy, parse_ip
from verifier.settings import FetchLimits


class Watchdog:
    """Shuts down every socket of one pool when the armed time runs out."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a finalizer may run while this thread holds it
        self._sockets: weakref.WeakKeyDictionary[object, socket.socket] = weakref.WeakKeyDictionary()
        self._generation = 0
        self.fired: str | None = None  # the reason given to ``armed`` when it expired

    def track(self, owner: object, sock: socket.socket) -> None:
        handle = sock.dup()  # shutdown() acts on the socket, whichever descriptor names it
        with self._lock:
            old = self._sockets.pop(owner, None)
            self._sockets[owner] = handle
            if old is not None:
                old.close()
        weakref.finalize(owner, self._close, handle)

    def forget(self, owner: object) -> None:
        with self._lock:
            handle = self._sockets.pop(owner, None)
            if handle is not None:
                handle.close()

    def _close(self, handle: socket.socket) -> None:
        with self._lock:  # never while _fire shuts it down
            handle.close()

    @contextmanager
    def armed(self, seconds: float, reason: str) -> Iterator[None]:
        """Within the block, every socket is shut down ``seconds`` from now."""
        with self._lock:
            self.fired = None
            self._generation += 1
            timer = threading.Timer(max(seconds, 0.0), self._fire, args=(reason, self._generation))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._lock:
                self._generation += 1

    def _fire(self, reason: str, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self.fired = reason
            for handle in self._sockets.values():
                try:
                    handle.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its peer or by us


def _connect(host: str, port: int, timeout: float | None, policy: AddressPolicy,
             options: list | None) -> socket.socket:
    """A socket connected to one of ``host``'s addresses, each of which ``policy`` allows."""
    error: OSError | None = None
    for family, sockaddr in policy.resolve(host, port):
        sock, connected = socket.socket(family, socket.SOCK_STREAM), False
        try:
            for option in options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            peer = parse_ip(sock.getpeername()[0])
            connected = peer == parse_ip(sockaddr[0]) and policy.refusal(peer) is None
        except OSError as exc:
            error = exc
        finally:
            if not connected:
                sock.close()
        if connected:
            return sock
    raise error or OSError(f"no usable address for {host}")


class _Checked:
    """Mixed into urllib3's connections: connect through ``_connect``, register the socket."""

    policy: AddressPolicy
    watchdog: Watchdog
    host: str
    port: int
    timeout: float | None
    socket_options: list | None

    def _new_conn(self) -> socket.socket:
        try:
            sock = _connect(self.host, self.port, self.timeout, self.policy, self.socket_options)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]
        self.peer_address = sock.getpeername()[0]
        self.watchdog.track(self, sock)
        return sock

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            self.watchdog.forget(self)


@dataclass
class Client:
    """A pool of checked connections and the watchdog over them (one download at a time)."""

    manager: urllib3.PoolManager
    watchdog: Watchdog


@contextmanager
def client(limits: FetchLimits, policy: AddressPolicy) -> Iterator[Client]:
    watchdog = Watchdog()
    manager = _pool(limits, policy, watchdog)
    try:
        yield Client(manager, watchdog)
    finally:
        manager.clear()


def _pool(limits: FetchLimits, policy: AddressPolicy, watchdog: Watchdog) -> urllib3.PoolManager:
    """A pool manager whose connections obey ``policy`` and ``watchdog``; no proxies, no retries."""
    bound = {"policy": policy, "watchdog": watchdog}
    http_conn = type("CheckedHTTPConnection", (_Checked, HTTPConnection), bound)
    https_conn = type("CheckedHTTPSConnection", (_Checked, HTTPSConnection), bound)
    http_pool = type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})
    timeout = urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout)
    manager = urllib3.PoolManager(timeout=timeout, retries=False, headers={"Accept-Encoding": "identity"})
    manager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
    return manager
