"""The deployment recipes in deploy/ (docs/deployment.md): they parse, their commands are commands
the CLI takes, the compose services are the ones the docs describe, probes point at real routes on
the operations listener, the Service never exposes it, and the Secret covers every *_env value."""

from __future__ import annotations

import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.app import GatewayHost, HostOptions
from gateway.channels import discover_adapters
from gateway.cli import _parser
from gateway.config import check_config
from gateway.serve import DRAIN_S
from tests.support.stack import Issuer, stack_config, stack_env
from tests.test_cli import env_names, values_for

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
CONFIG = DEPLOY / "channels.yaml"
CONFIG_IN_CONTAINER = "/etc/court-gateway/channels.yaml"
OPS_PORT, PUBLIC_PORT = 9090, 8080
#: CONTRACTS.md section 2: redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE[/DB]
SENTINEL_URL = re.compile(r"^redis\+sentinel://((?:[\w.-]+:\d+,)*[\w.-]+:\d+)/(\w+)(?:/(\d+))?$")


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def cli(args: list[str]) -> Any:
    """Parsed as `court-gateway ARGS` parses them (exits on anything it does not take)."""
    return _parser().parse_args(args)


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


# --- the config the recipes run ---------------------------------------------------------------------------


def test_the_deploy_config_is_valid_and_uses_the_sentinel_redis_of_compose(tmp_path: Path) -> None:
    document = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    state = document["gateway"]["state"]
    match = SENTINEL_URL.match(state)
    assert match, state
    compose = documents(DEPLOY / "compose.yaml")[0]["services"]
    sentinels = {f"{name}:26379" for name in compose if name.startswith("sentinel-")}
    assert set(match[1].split(",")) == sentinels and len(sentinels) == 3
    # The sentinel URL scheme is validated by the state-store code; everything else is checked here.
    document["gateway"]["state"] = "redis://redis-primary:6379/0"
    checked = tmp_path / "channels.yaml"
    checked.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "log").mkdir()
    text = checked.read_text(encoding="utf-8").replace("/var/log/court-gateway/", str(tmp_path / "log") + "/")
    checked.write_text(text, encoding="utf-8")
    assert check_config(checked, values_for(CONFIG), discover_adapters()) == []


# --- container and compose --------------------------------------------------------------------------------


def test_the_container_file_runs_the_gateway_with_an_ops_port() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    command = yaml.safe_load(re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)[1])  # type: ignore[index]
    args = cli(command)
    assert args.command == "serve" and str(args.config) == CONFIG_IN_CONTAINER
    assert (args.port, args.ops_port) == (PUBLIC_PORT, OPS_PORT)
    assert set(re.search(r"^EXPOSE (.*)$", text, re.MULTILINE)[1].split()) == {str(PUBLIC_PORT), str(OPS_PORT)}  # type: ignore[index]
    assert re.search(r"^USER \d+$", text, re.MULTILINE), "not root"


def test_compose_services_match_the_commands_and_keep_the_ops_port_private() -> None:
    services = documents(DEPLOY / "compose.yaml")[0]["services"]
    assert set(services) == {"gateway", "worker", "reference-court", "redis-primary", "redis-replica",
                             "sentinel-1", "sentinel-2", "sentinel-3"}
    gateway, worker = cli(services["gateway"]["command"]), cli(services["worker"]["command"])
    assert gateway.command == "serve" and gateway.workers == 2 and gateway.no_worker
    assert worker.command == "worker"
    assert cli(services["reference-court"]["command"]).command == "reference-court"
    for name in ("gateway", "worker"):
        assert f"./channels.yaml:{CONFIG_IN_CONTAINER}:ro" in services[name]["volumes"]
        assert str(cli(services[name]["command"]).config) == CONFIG_IN_CONTAINER
    published = [str(port) for port in services["gateway"]["ports"]]
    assert published == [f"{PUBLIC_PORT}:{PUBLIC_PORT}"] and gateway.ops_port == OPS_PORT
    assert f"127.0.0.1:{OPS_PORT}/readyz" in " ".join(services["gateway"]["healthcheck"]["test"])
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1] == "redis-primary"
    for name in ("redis-primary", "redis-replica"):
        assert "noeviction" in services[name]["command"] and "--appendonly" in services[name]["command"]
    for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
        assert "sentinel monitor gateway redis-primary 6379 2" in services[name]["command"][0]
    state = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["gateway"]["state"]
    assert SENTINEL_URL.match(state)[2] == "gateway"  # type: ignore[index]
    example = (DEPLOY / "compose.env.example").read_text(encoding="utf-8")
    assert {line.split("=")[0] for line in example.splitlines() if "=" in line and not line.startswith("#")} \
        == set(env_names(yaml.safe_load(CONFIG.read_text(encoding="utf-8"))))


# --- Kubernetes -------------------------------------------------------------------------------------------


def kubernetes() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    found = {}
    for resource in kustomization["resources"]:
        for document in documents(DEPLOY / resource):
            found[(document["kind"], document["metadata"]["name"])] = document
    assert kustomization["configMapGenerator"][0]["files"] == ["channels.yaml"]
    return found


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def test_kubernetes_gateway_probes_drain_and_secret() -> None:
    found = kubernetes()
    gateway = found[("Deployment", "court-gateway")]
    main = container(gateway)
    args = cli(main["args"])
    assert args.command == "serve" and args.no_worker and args.ops_port == OPS_PORT
    ports = {port["name"]: port["containerPort"] for port in main["ports"]}
    assert ports == {"http": args.port, "ops": args.ops_port}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    pre_stop = main["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert gateway["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > int(pre_stop[1]) + DRAIN_S
    secret = found[("Secret", "court-gateway-env")]
    assert set(secret["stringData"]) == set(env_names(yaml.safe_load(CONFIG.read_text(encoding="utf-8"))))
    for deployment in (gateway, found[("Deployment", "court-gateway-worker")]):
        spec = container(deployment)
        assert spec["envFrom"] == [{"secretRef": {"name": "court-gateway-env"}}]
        assert {"name": "config", "configMap": {"name": "court-gateway-config"}} in \
            deployment["spec"]["template"]["spec"]["volumes"]
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert cli(container(found[("Deployment", "court-gateway-worker")])["args"]).command == "worker"


def test_the_kubernetes_service_exposes_the_public_port_only() -> None:
    found = kubernetes()
    service = found[("Service", "court-gateway")]
    assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"]
    assert service["spec"]["selector"] == found[("Deployment", "court-gateway")]["spec"]["selector"]["matchLabels"]


async def test_the_probed_routes_answer_on_the_ops_listener_and_not_on_the_public_one() -> None:
    issuer = Issuer()
    issuer.jwks_url = "http://127.0.0.1:9/jwks"
    directory = Path(tempfile.mkdtemp(prefix="cg-deploy-"))
    path = directory / "channels.yaml"
    path.write_text(stack_config("http://127.0.0.1:9", issuer), encoding="utf-8")
    from gateway.config import load_config

    config = load_config(path, env=stack_env(None), adapters=discover_adapters())
    host = GatewayHost(config, HostOptions(ops_port=OPS_PORT, health_checks=False, background=False))
    await host.start()
    try:
        probes = [p["httpGet"]["path"] for p in (container(kubernetes()[("Deployment", "court-gateway")])[k]
                                                 for k in ("livenessProbe", "readinessProbe", "startupProbe"))]
        transport = httpx.ASGITransport(app=host)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://gateway:{OPS_PORT}") as ops:
            for probe in probes + ["/metrics"]:
                assert (await ops.get(probe)).status_code == 200, probe
        async with httpx.AsyncClient(transport=transport, base_url=f"http://gateway:{PUBLIC_PORT}") as public:
            assert (await public.get("/healthz")).status_code == 200
            assert (await public.get("/readyz")).status_code == 404
            assert (await public.get("/metrics")).status_code == 404
    finally:
        await host.stop()


# --- systemd ----------------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize(("name", "command"), [("court-gateway.service", "serve"),
                                               ("court-gateway-worker.service", "worker")])
def test_systemd_units_run_the_cli_hardened(name: str, command: str) -> None:
    settings = unit(name)
    start = shlex.split(settings["ExecStart"][0])
    assert start[0].endswith("/court-gateway") and cli(start[1:]).command == command
    assert cli(shlex.split(settings["ExecStartPre"][0])[1:]).command == "check-config"
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "DynamicUser": "yes",
                       "CapabilityBoundingSet": "", "RestrictNamespaces": "yes"}.items():
        assert settings[key] == [value], key
    assert settings["SystemCallFilter"][0] == "@system-service"
    if command == "serve":
        assert settings["KillMode"] == ["mixed"] and int(settings["TimeoutStopSec"][0]) > DRAIN_S
