"""Reject Ed25519 public keys that are small-order points or non-canonical encodings.

With a small-order public key A, the verification equation holds for a forged signature
over any message, so such a key must never be trusted. We decode the 32-byte point
(RFC 8032, section 5.1.3), refuse non-canonical encodings, and reject the key when
8·A is the identity: that is exactly the set of the 8 small-order points, which is
stronger than comparing with a fixed list of their encodings.
"""

from __future__ import annotations

P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
Point = tuple[int, int]
IDENTITY: Point = (0, 1)


def decode_point(encoded: bytes) -> Point | None:
    """The affine point of a canonical 32-byte encoding, or None when invalid/non-canonical."""
    if len(encoded) != 32:
        return None
    value = int.from_bytes(encoded, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = _sqrt_ratio(u, v)
    if x is None or (x == 0 and sign == 1):
        return None
    if x & 1 != sign:
        x = P - x
    return x, y


def _sqrt_ratio(u: int, v: int) -> int | None:
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    check = (v * x * x) % P
    if check == u % P:
        return x
    if check == (-u) % P:
        return (x * SQRT_M1) % P
    return None


def add(a: Point, b: Point) -> Point:
    """Point addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete: denominators never vanish)."""
    (x1, y1), (x2, y2) = a, b
    t = (D * x1 * x2 * y1 * y2) % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P)
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P)
    return x3 % P, y3 % P


def is_small_order(point: Point) -> bool:
    multiple = point
    for _ in range(3):
        multiple = add(multiple, multiple)
    return multiple == IDENTITY


def weak_key_reason(encoded: bytes) -> str | None:
    """Why this raw Ed25519 public key must be refused, or None when it is acceptable."""
    point = decode_point(encoded)
    if point is None:
        return "not a canonical Ed25519 point"
    if is_small_order(point):
        return "small-order Ed25519 public key (would accept forged signatures)"
    return None
