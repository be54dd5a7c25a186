"""URL helpers shared by the manifest, lockfile and fetch code: credentials are refused
everywhere and never shown (docs/network-policy.md)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def has_userinfo(url: str) -> bool:
    """True when ``url`` carries a user name or password (anything before an ``@`` in its authority)."""
    return "@" in urlsplit(url).netloc


def redact(url: str) -> str:
    """``url`` with any user name and password replaced by ``***`` (a malformed URL, which
    ``urlsplit`` refuses, is cut at its last ``@`` the same way)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url if "@" not in url else "***@" + url.rpartition("@")[2]
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
