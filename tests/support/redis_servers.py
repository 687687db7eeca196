"""Private Redis processes for tests: one server, a 3-primary cluster, a Sentinel set, TLS and ACL.

Every process is a real ``redis-server`` (Debian's binary runs Sentinel and
Cluster too) on a free loopback port, started and stopped by the tests, never
the machine's own Redis. The tests talk to them through redis-py, the same
library the gateway uses; ``redis-cli --cluster create`` joins a cluster.

    server = RedisServer(durable=True); server.start()      # AOF, fsync always
    cluster = RedisClusterNodes(); cluster.start()         # redis+cluster://... seeds
    sentinels = SentinelSet(); sentinels.start()           # 1 primary, 1 replica, 3 sentinels
    server.pause(); server.resume()                        # SIGSTOP / SIGCONT: a hung Redis
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workbench.ports import bindable, free_port

START_TIMEOUT_S = 20.0


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and below the ephemeral range too."""
    while True:
        port = random.randrange(12000, 22000)
        if bindable(port) and bindable(port + 10000):
            return port


def without_faked_clock(env: Mapping[str, str]) -> dict[str, str]:
    """The environment minus libfaketime (``scripts/test --clock``): Redis's jemalloc cannot start under
    it, and Redis needs no faked clock, since the gateway's Redis-side timing is relative (GCRA on
    Redis's own clock, TTLs) and absolute times come from the gateway as data."""
    return {name: value for name, value in env.items() if name != "LD_PRELOAD" and not name.startswith("FAKETIME")}


def _quiet_popen(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=without_faked_clock(os.environ))


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (the test command in README.md installs it)")
    return binary


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll ``condition`` until it holds, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


# --- TLS material ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway private CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
                 usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    # Valid for a year either side: under `scripts/test --clock` the tests' clock is moved but Redis
    # runs on the real one (tests/support/redis_servers.py: without_faked_clock), and both check it.
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=400))
               .not_valid_after(now + datetime.timedelta(days=400))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_tls_files(directory: Path) -> TlsFiles:
    """Write a private CA, a server and a client certificate (with keys) into ``directory``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "court-gateway test CA")])
    ca_cert = _certificate("court-gateway test CA", ca_key, ca_name, ca_key, ca=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key",
                     directory / "client.pem", directory / "client.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    for name, usage, cert_path, key_path in (
        ("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, files.server_cert, files.server_key),
        ("gateway", ExtendedKeyUsageOID.CLIENT_AUTH, files.client_cert, files.client_key),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, key, ca_name, ca_key, usage=usage)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_key_pem(key))
    return files


# --- one server -----------------------------------------------------------------------------------

#: the harness's own user when a server runs with ACL users (the gateway gets its own)
ADMIN_USER, ADMIN_PASSWORD = "harness", "harness-" + os.urandom(6).hex()


class RedisServer:
    """A private redis-server on a free port, started and stopped by the tests.

    ``durable`` runs it with the persistence docs/deployment.md asks for (AOF, fsync always),
    so a test can kill it and start it again on the same data. ``tls`` serves TLS only (with
    ``client_certs``, mutual TLS); ``acl`` adds ACL user lines and turns the default user off;
    ``unix`` also listens on a Unix socket; ``args`` go to redis-server as they are.
    """

    def __init__(self, *, durable: bool = False, tls: TlsFiles | None = None, client_certs: bool = False,
                 acl: Sequence[str] = (), unix: bool = False, args: Sequence[str] = (),
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="cg-redis-"))
        self.durable = durable
        self.tls = tls
        self.client_certs = client_certs
        self.acl = list(acl)
        self.socket_path = self.directory / "redis.sock" if unix else None
        self.args = list(args)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def command_line(self) -> list[str]:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        line = [redis_binary(), "--bind", "127.0.0.1", "--save", "", *persistence, "--dir", str(self.directory),
                "--maxmemory-policy", "noeviction"]
        if self.tls:
            line += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.tls.server_cert),
                     "--tls-key-file", str(self.tls.server_key), "--tls-ca-cert-file", str(self.tls.ca),
                     "--tls-auth-clients", "yes" if self.client_certs else "no"]
        else:
            line += ["--port", str(self.port)]
        if self.socket_path is not None:
            line += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        if self.acl:
            (self.directory / "users.acl").write_text("\n".join([
                "user default off", f"user {ADMIN_USER} on >{ADMIN_PASSWORD} ~* &* +@all", *self.acl]) + "\n")
            line += ["--aclfile", str(self.directory / "users.acl")]
        return line + self.args

    def admin(self, db: int = 0) -> redis.Redis:
        """A redis-py client for the harness (its own user when ACL users are on)."""
        options: dict[str, object] = {"host": "127.0.0.1", "port": self.port, "db": db, "socket_timeout": 5}
        if self.acl:
            options.update(username=ADMIN_USER, password=ADMIN_PASSWORD)
        if self.tls:
            options.update(ssl=True, ssl_ca_certs=str(self.tls.ca))
            if self.client_certs:
                options.update(ssl_certfile=str(self.tls.client_cert), ssl_keyfile=str(self.tls.client_key))
        return redis.Redis(**options)  # type: ignore[arg-type]

    def start(self) -> None:
        self._process = _quiet_popen(self.command_line())
        with self.admin() as client:
            wait_for(lambda: bool(client.ping()), f"redis-server on port {self.port}")

    def pause(self) -> None:
        """SIGSTOP: the process hangs, its sockets stay open (QUALITY.md reliability 11)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no shutdown save, as when the machine or the process dies; the data stays for a restart."""
        if self._process is not None:
            self.resume()  # a stopped process would not die until continued
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self.resume()
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            self._process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def flush(self) -> None:
        with self.admin() as client:
            client.flushall()


# --- a cluster ------------------------------------------------------------------------------------


class RedisClusterNodes:
    """Three primaries (no replicas: this machine has 2 cores) joined by ``redis-cli --cluster create``."""

    def __init__(self, primaries: int = 3, *, durable: bool = False) -> None:
        cluster_args = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000"]
        self.nodes = [RedisServer(durable=durable, args=cluster_args, port=free_cluster_port())
                      for _ in range(primaries)]
        self._created = False

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        if not self._created:
            cli = shutil.which("redis-cli") or "redis-cli"
            subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                            "--cluster-replicas", "0", "--cluster-yes"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
                           env=without_faked_clock(os.environ))
            self._created = True
        self.wait_ok()

    def wait_ok(self) -> None:
        def ok() -> bool:
            for node in self.nodes:
                with node.admin() as client:
                    info = client.execute_command("CLUSTER", "INFO")
                    text = info.decode() if isinstance(info, bytes) else str(info)
                    if "cluster_state:ok" not in text:
                        return False
            return True

        wait_for(ok, "the cluster to cover every slot")

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def flush(self) -> None:
        for node in self.nodes:
            node.flush()


# --- Sentinel -------------------------------------------------------------------------------------

SERVICE = "gateway"


class SentinelSet:
    """One primary, one replica, three sentinels watching them (QUALITY.md reliability 9)."""

    def __init__(self) -> None:
        fast_sync = ["--repl-diskless-sync-delay", "0"]  # a (re)attached replica syncs at once
        self.primary = RedisServer(durable=True, args=fast_sync)
        self.replica = RedisServer(durable=True, args=[*fast_sync, "--replicaof", "127.0.0.1", str(self.primary.port)])
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.directory = Path(tempfile.mkdtemp(prefix="cg-sentinel-"))
        self._sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports) + f"/{SERVICE}"

    def start(self) -> None:
        self.primary.start()
        self.replica.start()
        with self.primary.admin() as client:
            wait_for(lambda: client.info("replication").get("slave0", {}).get("state") == "online",
                     "the replica to attach")
        for port in self.sentinel_ports:
            config = self.directory / f"sentinel-{port}.conf"
            config.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                              f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                              f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                              f"sentinel failover-timeout {SERVICE} 5000\n")
            self._sentinels.append(_quiet_popen([redis_binary(), str(config), "--sentinel"]))
        wait_for(self._sentinels_see_everyone, "the sentinels to find the replica and each other")

    def _sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def _sentinels_see_everyone(self) -> bool:
        for port in self.sentinel_ports:
            with self._sentinel(port) as client:
                fields = client.sentinel_master(SERVICE)
                if int(fields["num-slaves"]) < 1 or int(fields["num-other-sentinels"]) < 2:
                    return False
        return True

    def primary_port(self) -> int:
        with self._sentinel(self.sentinel_ports[0]) as client:
            _host, port = client.sentinel_get_master_addr_by_name(SERVICE)
            return int(port)

    def failover(self) -> int:
        """A coordinated failover (the old primary stays up, demoted to a replica); returns the new
        primary's port once the sentinels name it."""
        before = self.primary_port()
        with self._sentinel(self.sentinel_ports[0]) as client:
            client.sentinel_failover(SERVICE)
        wait_for(lambda: self.primary_port() != before, "the sentinels to promote the replica")
        return self.primary_port()

    def kill(self) -> None:
        """SIGKILL the current primary (its data stays for a restart); the sentinels fail over."""
        self.server(self.primary_port()).kill()

    def server(self, port: int) -> RedisServer:
        return self.primary if self.primary.port == port else self.replica

    def stop(self) -> None:
        for process in self._sentinels:
            process.terminate()
            process.wait(10)
        self._sentinels.clear()
        self.replica.stop()
        self.primary.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
