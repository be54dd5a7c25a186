"""verifier: check that a published release really comes from its published sources."""

__version__ = "0.1.0"
TOOL_ID = "verifier"
