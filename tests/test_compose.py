"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here).

The compose file is parsed as Docker Compose would (YAML merge keys, ``${VAR}`` interpolation) and
checked against the production settings: every variable they require is set for the web app, the
worker and beat, and with the compose environment those settings load and pass Django's deploy
check. Operators with Docker run ``docker compose config`` for the full validation.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat")
# What an operator's .env would hold (see .env.example).
OPERATOR_ENV = {
    "SECRET_KEY": "compose-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
    "POSTGRES_PASSWORD": "compose0test0password",
    "ALLOWED_HOSTS": "safer.example.org",
    "SAFER_SITE_URL": "https://safer.example.org",
}
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?error}, and $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        current = environment.get(name)
        if op in (":-", "-"):
            missing = current is None or (op == ":-" and current == "")
            return arg if missing else str(current)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise LookupError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def service_environment(service: dict[str, Any], operator: dict[str, str]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {name: interpolate(str(value), operator) for name, value in raw.items()}


def command_text(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def required_production_variables() -> tuple[str, ...]:
    tree = ast.parse((BASE_DIR / "safer/settings/production.py").read_text(encoding="utf-8"))
    for node in tree.body:
        names = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if isinstance(node, ast.Assign) and "REQUIRED_PRODUCTION_VARIABLES" in names:
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("production settings define no REQUIRED_PRODUCTION_VARIABLES")


def test_the_five_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)


def test_postgres_16_and_redis_7_that_never_evicts_queued_tasks(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    redis_command = services["redis"]["command"]
    policy = redis_command[redis_command.index("--maxmemory-policy") + 1]
    assert policy == "noeviction"


@pytest.mark.parametrize("name", ["db", "redis", "web", "worker", "beat"])
def test_every_service_has_a_health_check(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name]["healthcheck"]

    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert len(" ".join(check["test"][1:])) > 5
    assert {"interval", "timeout", "retries"} <= set(check)


def test_web_runs_gunicorn_without_its_control_socket(
    services: dict[str, dict[str, Any]],
) -> None:
    command = command_text(services["web"])

    assert command.startswith("gunicorn ")
    assert "safer.wsgi:application" in command
    assert "--no-control-socket" in command  # gunicorn 27 writes ~/.gunicorn/ otherwise
    assert "healthcheck.py" in " ".join(services["web"]["healthcheck"]["test"])
    assert (BASE_DIR / "docker" / "healthcheck.py").is_file()


def test_worker_and_beat_run_celery_and_answer_pings(
    services: dict[str, dict[str, Any]],
) -> None:
    worker, beat = command_text(services["worker"]), command_text(services["beat"])

    assert re.match(r"celery (-A |--app=)safer worker\b", worker)
    assert re.match(r"celery (-A |--app=)safer beat\b", beat)
    assert "--enable-remote-control" in beat  # without it beat cannot answer its health check
    assert "worker@" in worker
    assert "worker@" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "celerybeat@" in " ".join(services["beat"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_every_variable_production_requires(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    environment = service_environment(services[name], OPERATOR_ENV)

    assert environment["DJANGO_SETTINGS_MODULE"] == "safer.settings.production"
    missing = [var for var in required_production_variables() if not environment.get(var)]
    assert missing == []


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_database_and_redis(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends_on = services[name]["depends_on"]

    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_secrets_have_no_default_in_compose(services: dict[str, dict[str, Any]]) -> None:
    environment = services["web"]["environment"]

    assert ":?" in environment["SECRET_KEY"]
    with pytest.raises(LookupError, match="SECRET_KEY"):
        service_environment(
            services["web"], {k: v for k, v in OPERATOR_ENV.items() if k != "SECRET_KEY"}
        )


def test_env_example_names_every_variable_compose_requires() -> None:
    text = (BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = (BASE_DIR / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert required
    assert required <= documented


def test_production_settings_load_and_pass_the_deploy_check_with_the_compose_environment(
    services: dict[str, dict[str, Any]],
) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        **service_environment(services["web"], OPERATOR_ENV),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_dockerfile_builds_assets_installs_the_lock_and_runs_unprivileged() -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)

    assert stages[-1].startswith("python:3.11-slim")
    assert any(stage.startswith("node:") for stage in stages[:-1])
    assert "npm ci" in dockerfile
    assert "npm run build:css" in dockerfile
    assert re.search(r"uv pip install .*-r /tmp/requirements.lock", dockerfile)
    assert "manage.py collectstatic" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    entrypoint = BASE_DIR / "docker" / "entrypoint.sh"
    assert '"/app/docker/entrypoint.sh"' in dockerfile
    assert "manage.py preflight" in entrypoint.read_text(encoding="utf-8")
    assert os.access(entrypoint, os.X_OK)


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = (BASE_DIR / ".dockerignore").read_text(encoding="utf-8").split()

    assert {".git", ".venv", "node_modules", "var", ".env"} <= set(ignored)
