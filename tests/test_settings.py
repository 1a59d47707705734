"""Settings: one env-reading module, secrets without defaults in production, and a bad value or an
unreachable dependency at start-up reported as ONE clear line (exit status 2), not a traceback.

The start-up cases run the real entry points (manage.py, celery) in subprocesses.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from safer import env

BASE_DIR = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "safer.settings.production",
    "SECRET_KEY": "test-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "safer.example.org",
    "DATABASE_URL": "postgresql://safer@db.invalid:5432/safer",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "SAFER_SITE_URL": "https://safer.example.org",
}
# Nothing listens on port 1; a socket in a directory that does not exist cannot answer.
UNREACHABLE_DATABASE_URL = "postgresql://safer@127.0.0.1:1/safer"
UNREACHABLE_REDIS_URL = "unix:///nonexistent-safer-test/redis.sock"


def reachable_database() -> dict[str, str | None]:
    """Env for a subprocess whose database must answer.

    With the embedded default the subprocess creates its own ``safer`` database. A DATABASE_URL
    given to the suite may name a database that does not exist on that server (the suite only
    needs the server, to create its test database), so point at the server's ``postgres``
    database instead.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {}
    parts = urlsplit(url)
    return {"DATABASE_URL": urlunsplit(parts._replace(path="/postgres"))}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def run(command: list[str], env_changes: dict[str, str | None], *, clean: bool = False) -> Result:
    """Run ``command`` in the project with the environment changed (None removes a variable).

    ``clean`` starts from an empty environment, as a production container would.
    """
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")} if clean else {}
    environment = {**(base if clean else os.environ), "SAFER_STARTUP_WAIT": "0"}
    # The browser tests' session fixture sets this for Playwright's event loop; a command run as
    # production would be never has it (check --deploy rejects it).
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name, value in env_changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    completed = subprocess.run(  # noqa: S603
        command,
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def manage(*args: str, env_changes: dict[str, str | None], clean: bool = False) -> Result:
    return run([sys.executable, "manage.py", *args], env_changes, clean=clean)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr_lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# --- Bad values: one line from manage.py ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DATABASE_URL", "postgresql://[not-a-host", "DATABASE_URL is not a valid URL"),
        ("DATABASE_URL", "mysql://safer@db/safer", "DATABASE_URL must start with one of"),
        ("DATABASE_URL", "postgresql://safer@db:port/safer", "DATABASE_URL is not a valid URL"),
        ("DATABASE_URL", "postgresql://safer@db/", "DATABASE_URL must name a database"),
        ("REDIS_URL", "http://redis:6379/0", "REDIS_URL must start with one of"),
        ("REDIS_URL", "redis://redis:6379/zero", "REDIS_URL names a database that is not"),
        ("REDIS_URL", "unix://", "REDIS_URL must name a socket path"),
        ("DATABASE_CONN_MAX_AGE", "a minute", "DATABASE_CONN_MAX_AGE must be a whole number"),
        ("CELERY_TASK_TIME_LIMIT", "100", "CELERY_TASK_SOFT_TIME_LIMIT must be below"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name: str, value: str, fragment: str) -> None:
    result = manage("check", env_changes={name: value})

    assert_one_line_error(result, "SAFER is not configured correctly:", fragment)


def test_a_password_in_a_bad_url_is_not_printed() -> None:
    result = manage("check", env_changes={"DATABASE_URL": "mysql://safer:hunter2-secret@db/safer"})

    assert_one_line_error(result, "mysql://safer:***@db/safer")
    assert "hunter2" not in result.stderr


# --- Production: secrets have no default --------------------------------------------------------


def required_production_variables() -> tuple[str, ...]:
    """REQUIRED_PRODUCTION_VARIABLES, read without importing (importing needs them set)."""
    tree = ast.parse((BASE_DIR / "safer/settings/production.py").read_text(encoding="utf-8"))
    for node in tree.body:
        names = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if isinstance(node, ast.Assign) and "REQUIRED_PRODUCTION_VARIABLES" in names:
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("production settings define no REQUIRED_PRODUCTION_VARIABLES")


def test_production_without_any_configuration_lists_every_missing_variable() -> None:
    result = manage(
        "check", env_changes={"DJANGO_SETTINGS_MODULE": "safer.settings.production"}, clean=True
    )

    assert_one_line_error(result, ", ".join(required_production_variables()))
    assert set(PRODUCTION_ENV) - {"DJANGO_SETTINGS_MODULE"} == set(required_production_variables())


def test_production_without_secret_key_is_one_line() -> None:
    result = manage("check", env_changes={**PRODUCTION_ENV, "SECRET_KEY": None}, clean=True)

    assert_one_line_error(result, "need SECRET_KEY to be set")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 random characters"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list this service's host names"),
        ({"SAFER_SITE_URL": "http://safer.example.org"}, "SAFER_SITE_URL must start with"),
        ({"SECRET_KEY": None, "SECRET_KEY_FILE": "/nonexistent/secret"}, "cannot be read"),
    ],
)
def test_production_refuses_weak_or_unreadable_values(
    changes: dict[str, str | None], fragment: str
) -> None:
    result = manage("check", env_changes={**PRODUCTION_ENV, **changes}, clean=True)

    assert_one_line_error(result, fragment)


def test_production_reads_secrets_from_files_and_passes_the_deploy_check(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text(PRODUCTION_ENV["SECRET_KEY"] + "\n", encoding="utf-8")
    changes = {**PRODUCTION_ENV, "SECRET_KEY": None, "SECRET_KEY_FILE": str(secret)}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env_changes=changes, clean=True)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- make run's settings: production's hardening but for HTTPS ---------------------------------


def test_make_run_settings_pass_the_deploy_check_but_for_what_needs_https() -> None:
    changes = {
        "DJANGO_SETTINGS_MODULE": "safer.settings.pilot",
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
        **reachable_database(),
    }

    result = manage("check", "--deploy", env_changes=changes)

    assert result.returncode == 0, result.stderr
    warnings = set(re.findall(r"\((security\.\w+)\)", result.stderr + result.stdout))
    # HSTS, the HTTPS redirect and Secure cookies cannot work on http://127.0.0.1; DEBUG, the
    # secret key, ALLOWED_HOSTS and the rest must pass as in production.
    assert warnings == {"security.W004", "security.W008", "security.W012", "security.W016"}


def test_make_run_makes_its_own_secret_key_once_and_keeps_it(tmp_path: Path) -> None:
    changes = {
        "DJANGO_SETTINGS_MODULE": "safer.settings.pilot",
        "SECRET_KEY": None,
        "SAFER_VAR_DIR": str(tmp_path),
        **reachable_database(),
        "REDIS_URL": settings.REDIS_URL,
    }
    if "DATABASE_URL" not in changes:  # the embedded server lives under the real var/
        changes["DATABASE_URL"] = settings_database_url()
    show = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]

    first = manage(*show, env_changes=changes)
    second = manage(*show, env_changes=changes)

    key_file = tmp_path / "pilot-secret-key"
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50
    assert first.stdout.strip() != "development-only-not-secret"
    assert key_file.stat().st_mode & 0o777 == 0o600


def settings_database_url() -> str:
    """The embedded server's ``postgres`` database (the embedded default is a Unix socket)."""
    database = settings.DATABASES["default"]
    return f"postgresql://{database['USER']}@/postgres?host={database['HOST']}"


# --- Unreachable dependencies at start-up -------------------------------------------------------


def test_preflight_with_database_unreachable_is_one_line() -> None:
    result = manage("preflight", env_changes={"DATABASE_URL": UNREACHABLE_DATABASE_URL})

    assert_one_line_error(result, "SAFER cannot start: the database at 127.0.0.1 is unreachable")


def test_preflight_with_broker_unreachable_is_one_line() -> None:
    result = manage(
        "preflight", env_changes={**reachable_database(), "REDIS_URL": UNREACHABLE_REDIS_URL}
    )

    assert_one_line_error(result, "SAFER cannot start: the broker at /nonexistent-safer-test")


def test_preflight_succeeds_silently_when_both_answer() -> None:
    result = manage("preflight", env_changes=reachable_database())

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("command", "settings_module"),
    [("serve", "safer.settings.pilot"), ("devserver", "safer.settings.development")],
)
def test_make_run_and_make_dev_with_database_unreachable_is_one_line(
    command: str, settings_module: str
) -> None:
    # REDIS_URL names the running broker, so the command leaves it running when it gives up.
    changes: dict[str, str | None] = {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": UNREACHABLE_DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
    }

    result = manage(command, "--migrate", "--port=8199", env_changes=changes)

    assert_one_line_error(result, "SAFER cannot start: the database at 127.0.0.1 is unreachable")


def celery(*args: str, env_changes: dict[str, str | None]) -> Result:
    return run([sys.executable, "-m", "celery", "-A", "safer", *args], env_changes)


def test_worker_with_broker_unreachable_stops_with_one_line() -> None:
    result = celery(
        "worker",
        "--pool=solo",
        env_changes={**reachable_database(), "REDIS_URL": UNREACHABLE_REDIS_URL},
    )

    assert_one_line_error(result, "SAFER worker cannot start: the broker at")


def test_worker_with_a_malformed_database_url_stops_with_one_line() -> None:
    result = celery("worker", "--pool=solo", env_changes={"DATABASE_URL": "postgresql://[oops"})

    assert_one_line_error(result, "SAFER is not configured correctly: DATABASE_URL")


def test_beat_with_broker_unreachable_stops_with_one_line(tmp_path: Path) -> None:
    result = celery(
        "beat",
        f"--schedule={tmp_path / 'schedule'}",
        env_changes={"REDIS_URL": UNREACHABLE_REDIS_URL},
    )

    assert_one_line_error(result, "SAFER beat cannot start: the broker at")


# --- The env helpers ----------------------------------------------------------------------------


def test_env_bool_refuses_a_value_that_is_neither(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFER_TEST_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="SAFER_TEST_FLAG must be true or false"):
        env.env_bool("SAFER_TEST_FLAG", False)


def test_env_int_enforces_its_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFER_TEST_NUMBER", "0")

    with pytest.raises(ImproperlyConfigured, match="at least 1, not 0"):
        env.env_int("SAFER_TEST_NUMBER", 5, minimum=1)


def test_a_file_variant_wins_and_is_stripped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "value").write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("SAFER_TEST_SECRET", "from-the-environment")
    monkeypatch.setenv("SAFER_TEST_SECRET_FILE", str(tmp_path / "value"))

    assert env.env_str("SAFER_TEST_SECRET") == "from-a-file"


def test_a_socket_database_url_names_its_directory_as_host() -> None:
    config = env.database_config("postgresql://postgres@/safer?host=/srv/safer/var/postgres")

    assert config["HOST"] == "/srv/safer/var/postgres"
    assert config["NAME"] == "safer"


# --- Every variable is documented ---------------------------------------------------------------

_ENV_READ = re.compile(r"\benv_(?:str|int|bool|list|optional|url)\(\s*\"([A-Z][A-Z0-9_]*)\"")


def variables_read_through_env_helpers() -> set[str]:
    names: set[str] = set()
    for path in BASE_DIR.glob("**/*.py"):
        parts = path.relative_to(BASE_DIR).parts
        if parts[0] in {".venv", "node_modules", "var", "tests"}:
            continue
        names.update(_ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_is_in_the_readme() -> None:
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    names = variables_read_through_env_helpers()

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert undocumented == [], f"add these to the README's table: {undocumented}"
