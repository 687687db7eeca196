"""One Redis client per process, built from ``gateway.state*`` (CONTRACTS.md section 2, "State store").

redis-py (with the hiredis parser) does the protocol, the Sentinel discovery and
the Cluster slot map; this module only turns the configuration into its
arguments. Every Redis command of a process (hot path, outbox, timers, health)
goes through the client built here, so they all see the same server, database,
user and TLS settings.

Timeouts are short on purpose: a Redis that does not answer within
``TIMEOUT_S`` is treated as down (:mod:`gateway.state.health`), requests go on
in the degraded mode instead of waiting, and a background probe finds it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

#: a command (or a connect) not answered in this time counts as a failure (QUALITY.md reliability 11)
TIMEOUT_S = 0.25
#: concurrent commands beyond this wait for a connection instead of opening more
MAX_CONNECTIONS = 256

Client = Redis | RedisCluster


@dataclass(frozen=True)
class StateSettings:
    """Everything needed to reach the state store; the password is the value, not the variable's name."""

    url: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    timeout_s: float = TIMEOUT_S

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def topology(self) -> str:
        """``single``, ``sentinel`` or ``cluster``: for logs, metrics and the bench."""
        return {"redis+sentinel": "sentinel", "redis+cluster": "cluster"}.get(self.scheme, "single")

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.scheme == "rediss"


class StateConfig(Protocol):
    """The ``gateway:`` settings this module reads (gateway.config.models.GatewaySettings)."""

    state: str
    state_username: str | None
    state_tls: bool
    state_tls_ca_file: Path | None
    state_tls_cert_file: Path | None
    state_tls_key_file: Path | None

    @property
    def state_password_env(self) -> Any: ...


def settings_from(config: StateConfig) -> StateSettings:
    """The state store's settings from the ``gateway:`` section, the password read from its variable."""
    password = config.state_password_env

    def path(value: Path | None) -> str | None:
        return str(value) if value is not None else None

    return StateSettings(config.state, config.state_username, password.value if password else None,
                         config.state_tls, path(config.state_tls_ca_file), path(config.state_tls_cert_file),
                         path(config.state_tls_key_file))


def _tls_options(settings: StateSettings) -> dict[str, Any]:
    if not settings.uses_tls:
        return {}
    options: dict[str, Any] = {"ssl_cert_reqs": "required", "ssl_check_hostname": True}
    if settings.tls_ca_file:
        options["ssl_ca_certs"] = settings.tls_ca_file
    if settings.tls_cert_file:
        options["ssl_certfile"] = settings.tls_cert_file
        options["ssl_keyfile"] = settings.tls_key_file
    return options


def _retry() -> Retry:
    """Once more on a fresh connection when a pooled one turns out dead (after a failover or a
    Redis restart), at once; never again after a timeout, which would double the wait."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def _common(settings: StateSettings) -> dict[str, Any]:
    """What every connection shares. No CLIENT SETINFO on connect: one round trip less when
    reconnecting, which is exactly when Redis may be slow."""
    options: dict[str, Any] = {
        "username": settings.username, "password": settings.password,
        "socket_timeout": settings.timeout_s, "socket_connect_timeout": settings.timeout_s,
        "driver_info": None, "retry": _retry(),
    }
    return options


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    """``host:port,host:port`` (IPv6 in brackets), the seed list of Sentinel and Cluster URLs."""
    hosts = []
    for item in netloc.rpartition("@")[2].split(","):
        host, _, port = item.strip().rpartition(":")
        if not host:
            host, port = item.strip(), ""
        hosts.append((host.strip("[]"), int(port or default_port)))
    return hosts


def _username(netloc: str) -> str | None:
    user = netloc.rpartition("@")[0]
    return unquote(user) if user else None


def build_client(settings: StateSettings) -> Client:
    """The process's one client for the URL's topology."""
    parts = urlsplit(settings.url)
    username = settings.username or _username(parts.netloc)
    if username != settings.username:
        settings = StateSettings(**{**settings.__dict__, "username": username})
    if parts.scheme == "redis+sentinel":
        return _sentinel_client(settings, parts.netloc, parts.path)
    if parts.scheme == "redis+cluster":
        return _cluster_client(settings, parts.netloc)
    return _single_client(settings)


def _single_client(settings: StateSettings) -> Redis:
    options = {**_common(settings), **_tls_options(settings), "max_connections": MAX_CONNECTIONS}
    client: Redis = Redis.from_url(settings.url, **options)
    return client


def _sentinel_client(settings: StateSettings, netloc: str, path: str) -> Redis:
    service, _, db = path.strip("/").partition("/")
    query = parse_qs(urlsplit(settings.url).query)
    database = int(db or query.get("db", ["0"])[0])
    common = _common(settings)
    # The sentinels get the same TLS settings and timeouts; they are asked without the data
    # user's credentials (a sentinel's own ACL is configured apart, see docs/deployment.md).
    sentinel_options = {"socket_timeout": settings.timeout_s, "socket_connect_timeout": settings.timeout_s,
                        **_tls_options(settings), **({"ssl": True} if settings.uses_tls else {})}
    connection_options: dict[str, Any] = {**common, **_tls_options(settings), "db": database}
    if settings.uses_tls:
        connection_options["ssl"] = True
    sentinel = Sentinel(_hosts(netloc, 26379), sentinel_kwargs=sentinel_options, **connection_options)
    client: Redis = sentinel.master_for(service, redis_class=Redis, max_connections=MAX_CONNECTIONS)
    return client


def _cluster_client(settings: StateSettings, netloc: str) -> RedisCluster:
    seeds = [ClusterNode(host, port) for host, port in _hosts(netloc, 6379)]
    options = {**_common(settings), **_tls_options(settings), **({"ssl": True} if settings.uses_tls else {})}
    return RedisCluster(startup_nodes=seeds, max_connections=MAX_CONNECTIONS, **options)
