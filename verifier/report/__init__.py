"""The verify report: a typed model (``model.py``) built from the stages' results
(``document.py``), written as and read back from versioned JSON in one place (``codec.py``).

Kept free of imports: importing the model alone (as every command's start-up does, for
type annotations) must not load the codec and its JSON-schema validator."""
