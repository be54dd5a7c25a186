"""verifier farm: a rebuilder service on Celery, Redis and a SQL database (docs/farm.md)."""
