"""`verifier farm serve`: the farm's HTTP API, dashboard and metrics (docs/farm.md).

``views.py`` is the seam to the farm's state (read queries, submit/requeue), ``app.py``
the app factory, ``pages.py`` and ``api.py`` the routes, ``documents.py`` the JSON,
``metrics.py`` the Prometheus exposition, ``auth.py`` the write token, ``keys.py`` the
public keys offered for download, ``results.py`` a stored report made readable,
``templating.py`` the Jinja2 environment (autoescape on), ``server.py`` uvicorn.
"""
