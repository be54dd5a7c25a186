"""`verifier debian`: one official Debian package verified from its name or its .buildinfo
(docs/debian.md)."""
