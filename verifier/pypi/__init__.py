"""`verifier pypi`: rebuild a Python release's wheels from its sdist and compare (docs/pypi.md)."""
