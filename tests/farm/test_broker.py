"""The broker's settings, and the durability check a worker makes at start (real redis-server)."""

from __future__ import annotations

import pytest
import redis

from tests.farm.services import RedisServer, free_port
from verifier.farm.broker import BrokerConfig, BrokerError, durability_warning, make_celery


def test_reliability_settings() -> None:
    conf = make_celery(BrokerConfig("redis://127.0.0.1:1/0", visibility_timeout=600)).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    options = conf.broker_transport_options
    assert options["visibility_timeout"] == 600 and options["unacked_restore_interval"] == 10.0
    assert BrokerConfig("x", visibility_timeout=8).restore_interval == 2.0  # restores well within a short timeout


def test_a_broker_without_an_append_only_file_is_named(redis_server: RedisServer) -> None:
    assert durability_warning(redis_server.url) is None
    client = redis.Redis.from_url(redis_server.url)
    client.config_set("appendonly", "no")
    client.close()
    warning = durability_warning(redis_server.url)
    assert warning is not None and "appendonly is no" in warning and redis_server.url in warning
    with pytest.raises(BrokerError) as caught:
        durability_warning(f"redis://:secret@127.0.0.1:{free_port()}/0")
    assert "cannot connect" in caught.value.message and "secret" not in caught.value.message
