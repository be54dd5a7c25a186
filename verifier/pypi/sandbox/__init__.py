"""Files copied into the sandbox of a `verifier pypi` rebuild (standard library only: they
run under the environment's python3, never on the host)."""
