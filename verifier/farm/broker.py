"""The Celery application on a Redis broker, and the two messages the farm sends.

Reliability comes from Celery's settings, chosen here once:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged when its task
  returns, so a worker killed mid-job leaves it unacknowledged; Redis gives it to a worker
  again after ``visibility_timeout`` (a killed pool process: at once);
- ``worker_prefetch_multiplier=1``: a worker holds one message per process, no more;
- time limits per message (``soft_time_limit`` = the job's time limit, a hard limit after);
- the broker's own retries on a lost connection, so a restarted Redis is a pause, not an error.

Messages carry ids only (a job id; a result id and the report's digest): the database holds
the rest. Retries are new messages published by the worker with a countdown (``publish_verify``).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery import Celery
from kombu.exceptions import OperationalError as KombuOperationalError

from verifier.errors import InfrastructureError
from verifier.urls import redact

VERIFY_TASK = "verifier.farm.verify"
ATTEST_TASK = "verifier.farm.attest"
ATTEST_QUEUE = "attest"
HARD_LIMIT_MARGIN = 60.0  # seconds after the soft limit before the pool process is killed
DEFAULT_VISIBILITY_TIMEOUT = 3600.0 + 2 * HARD_LIMIT_MARGIN


class BrokerError(InfrastructureError):
    """The broker (Redis) cannot be reached."""


@dataclass(frozen=True)
class BrokerConfig:
    url: str
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT  # more than the longest job's time limit

    @property
    def restore_interval(self) -> float:
        """How often a worker looks for unacknowledged messages older than the visibility timeout."""
        return max(1.0, min(10.0, self.visibility_timeout / 4))


def make_celery(config: BrokerConfig) -> Celery:
    app = Celery("verifier-farm", broker=config.url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_serializer="json", accept_content=["json"],
        task_ignore_result=True, result_backend=None,
        task_default_queue="verify",
        broker_transport_options={"visibility_timeout": config.visibility_timeout,
                                  "unacked_restore_interval": config.restore_interval, "unacked_restore_throttle": 1,
                                  "socket_timeout": 30, "socket_connect_timeout": 10, "retry_on_timeout": True},
        broker_connection_retry=True, broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        worker_send_task_events=False, task_send_sent_event=False,
        enable_utc=True,
    )
    return app


def publish_verify(app: Celery, job_id: int, queue: str, time_limit: float, countdown: float = 0.0) -> None:
    _send(app, VERIFY_TASK, [job_id], queue, countdown, soft_time_limit=time_limit,
          time_limit=time_limit + HARD_LIMIT_MARGIN)


def publish_attest(app: Celery, result_id: int, report_sha256: str) -> None:
    _send(app, ATTEST_TASK, [result_id, report_sha256], ATTEST_QUEUE, 0.0)


def _send(app: Celery, name: str, args: list[object], queue: str, countdown: float, **limits: float) -> None:
    try:
        app.send_task(name, args=args, queue=queue, countdown=countdown or None,
                      retry=True, retry_policy={"max_retries": 5, "interval_start": 0.5, "interval_step": 1.0,
                                                "interval_max": 5.0}, **limits)
    except (KombuOperationalError, OSError) as exc:
        raise BrokerError(f"broker {redact(str(app.conf.broker_url))}: cannot send {name}: {exc}") from None


def durability_warning(url: str) -> str | None:
    """A warning when the Redis broker at ``url`` keeps no append-only file (queued jobs then
    survive a clean restart only through its snapshots, and a crash loses the latest ones)."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            setting = client.config_get("appendonly").get("appendonly")
        finally:
            client.close()
    except redis.exceptions.ResponseError:
        return None  # CONFIG is renamed or refused (a managed Redis): nothing to say
    except redis.exceptions.RedisError as exc:
        raise BrokerError(f"broker {redact(url)}: cannot connect: {exc}") from None
    if setting == "yes":
        return None
    return (f"broker {redact(url)}: appendonly is {setting or 'off'}: jobs queued when Redis crashes can be lost "
            "(set 'appendonly yes' in its configuration, docs/farm.md)")
