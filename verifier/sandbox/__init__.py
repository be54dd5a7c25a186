"""Where builds run: the ``Sandbox`` protocol (interface.py), its podman backend chosen by
backends.py, a fake for tests, and the backend-independent rebuild and output collection."""
