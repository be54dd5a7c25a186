"""`verifier farm serve`: the farm's HTTP API, dashboard and metrics (docs/farm.md).

``views.py`` holds what is shown and the seams to the farm's state (``FarmReader``,
``FarmWriter``), ``source.py`` implements them over the farm's database and broker,
``app.py`` is the app factory, ``context.py`` what its handlers share, ``pages.py`` and
``api.py`` the routes, ``documents.py`` the JSON, ``metrics.py`` the Prometheus exposition,
``auth.py`` the write token, ``keys.py`` the public keys offered for download,
``results.py`` a stored report made readable, ``templating.py`` the Jinja2 environment
(autoescape on), ``server.py`` uvicorn.
"""
