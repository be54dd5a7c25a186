"""The podman sandbox: OCI runtime choice, environment import, and the hermetic rebuild."""
