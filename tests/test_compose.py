"""Static checks of docker-compose.yml and the Dockerfile (no Docker engine needed).

The compose file is the contract between the image and the app: every variable it sets must
be one the app reads, every command must name something that exists, and the services the
app relies on must be healthy before it starts.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import TUNING_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CONFIG_FILE = ROOT / "config" / "__init__.py"

SERVICES = ("db", "redis", "mailpit", "web", "worker", "beat")
APP_SERVICES = ("web", "worker", "beat")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def service(name: str) -> dict[str, Any]:
    services = load_compose().get("services") or {}
    assert name in services, f"service {name!r} missing from docker-compose.yml"
    return services[name]


def environment(name: str) -> dict[str, str | None]:
    """The service's environment as a mapping, whether written as a mapping or a list."""
    env = service(name).get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: (pair[1] if len(pair) > 1 else None) for pair in pairs}
    return {str(key): (None if value is None else str(value)) for key, value in env.items()}


def command_words(name: str) -> list[str]:
    """The service's command as words; a `sh -c "…"` script is split into its words too."""
    command = service(name).get("command")
    assert command, f"service {name!r} has no command"
    parts = shlex.split(command) if isinstance(command, str) else [str(p) for p in command]
    words: list[str] = []
    for index, part in enumerate(parts):
        if index > 0 and parts[index - 1] == "-c":
            words.extend(shlex.split(part))
        else:
            words.append(part)
    return words


def config_variables() -> set[str]:
    """The environment variables config/__init__.py reads."""
    source = CONFIG_FILE.read_text(encoding="utf-8")
    names = set(re.findall(r"""\bget\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    names |= set(re.findall(r"""["'](SOKAI_[A-Z0-9_]+)["']""", source))
    names |= set(re.findall(r"""_number\(env,\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    return names


def depends_on(name: str) -> dict[str, dict[str, Any]]:
    deps = service(name).get("depends_on") or {}
    if isinstance(deps, list):  # short form carries no condition
        return {dep: {} for dep in deps}
    return {str(dep): (spec or {}) for dep, spec in deps.items()}


def test_compose_has_no_version_key() -> None:
    assert "version" not in load_compose()


@pytest.mark.parametrize("name", SERVICES)
def test_service_exists(name: str) -> None:
    assert isinstance(service(name), dict)


def test_config_reads_the_expected_variables() -> None:
    # Guards the regex: if config changes how it reads variables, this test says so.
    expected = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SMTP_URL", "SECRET_KEY",
                "SOKAI_INSTANCE_PATH", "SOKAI_BASE_URL"}
    assert expected <= config_variables()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_matches_config(name: str) -> None:
    env = environment(name)
    known = config_variables()
    unknown = set(env) - known
    assert not unknown, f"{name} sets variables config never reads: {sorted(unknown)}"
    missing = known - set(env) - TUNING_VARIABLES
    assert not missing, f"{name} does not set variables config reads: {sorted(missing)}"
    empty = sorted(key for key, value in env.items() if not value)
    assert not empty, f"{name} leaves variables empty: {empty}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_points_at_the_services(name: str) -> None:
    env = environment(name)
    assert env["DATABASE_URL"] == "postgresql+psycopg://sokai:sokai@db:5432/sokai"
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["REDIS_URL"] == "redis://redis:6379/1"
    assert env["SMTP_URL"] == "smtp://mailpit:1025"
    assert env["SOKAI_INSTANCE_PATH"] == "/var/lib/sokai"
    # Compose must refuse to start without a real secret rather than fall back to a default.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", env["SECRET_KEY"] or "")


def test_app_services_share_the_instance_volume() -> None:
    compose = load_compose()
    mounts: dict[str, str] = {}
    for name in ("web", "worker"):
        for volume in service(name).get("volumes") or []:
            source, _, target = str(volume).partition(":")
            if target.split(":")[0] == "/var/lib/sokai":
                mounts[name] = source
    assert set(mounts) == {"web", "worker"}, "web and worker must mount /var/lib/sokai"
    assert mounts["web"] == mounts["worker"], "web and worker must share the instance volume"
    assert mounts["web"] in (compose.get("volumes") or {}), "instance volume must be named"


def sokai_command(words: list[str], name: str) -> list[str]:
    """The words of `sokai NAME …` in a command, checked to be a real `sokai` command."""
    from webapp.cli import main

    starts = [i for i in range(len(words) - 1) if words[i] == "sokai" and words[i + 1] == name]
    assert starts, f"no `sokai {name}` in {' '.join(words)!r}"
    assert name in main.commands, f"`sokai {name}` is not a command"
    return words[starts[-1]:]


def test_web_command_runs_sokai_web_over_a_wsgi_app(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    words = sokai_command(command_words("web"), "web")
    assert words[words.index("--bind") + 1] == "0.0.0.0:8000"
    # `sokai web` execs gunicorn on webapp.wsgi:app. In a fresh interpreter, as gunicorn
    # does: importing the WSGI module builds an app (and its Celery app), which must not
    # replace the test session's own.
    check = ("import importlib; m = importlib.import_module('webapp.wsgi'); "
             "assert callable(m.app)")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL",
                                                             "REDIS_URL", "SMTP_URL")}
    env.update(SOKAI_INSTANCE_PATH=str(tmp_path), SECRET_KEY="x")
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"webapp.wsgi:app is not a WSGI callable: {done.stderr[-2000:]}"


def test_web_command_runs_migrations_before_gunicorn() -> None:
    words = command_words("web")
    joined = " ".join(words)
    assert "sokai db upgrade" in joined
    assert joined.index("sokai db upgrade") < joined.index("sokai web")
    # `a; b` would start the server on a failed migration; `a && b` does not.
    between = joined[joined.index("sokai db upgrade"):joined.index("sokai web")]
    assert "&&" in between
    assert "exec sokai web" in joined, "exec: the server must be PID 1 and get SIGTERM"


def test_web_command_sokai_db_upgrade_exists() -> None:
    from webapp.cli import main

    assert "db" in main.commands, "`sokai db` is not a command"
    db = main.commands["db"]
    assert "upgrade" in getattr(db, "commands", {}), "`sokai db upgrade` is not a command"


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_run_their_sokai_command(name: str) -> None:
    words = sokai_command(command_words(name), name)
    assert words[:2] == ["sokai", name]
    # The command's options are ones it accepts.
    from click.testing import CliRunner

    from webapp.cli import main

    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    for option in (w for w in words[2:] if w.startswith("--")):
        assert option in result.output, f"`sokai {name}` has no option {option}"


def test_beat_schedule_lives_in_the_instance_volume() -> None:
    words = command_words("beat")
    assert "--schedule" in words
    assert words[words.index("--schedule") + 1].startswith("/var/lib/sokai/")
    assert any(str(v).split(":")[1] == "/var/lib/sokai" for v in service("beat")["volumes"])


def test_redis_is_durable_and_never_evicts() -> None:
    command = service("redis")["command"]
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]

    def option(name: str) -> str:
        assert name in words, f"redis runs without {name}"
        return words[words.index(name) + 1]

    assert option("--appendonly") == "yes"
    assert option("--appendfsync") == "everysec"
    assert option("--maxmemory-policy") == "noeviction"


@pytest.mark.parametrize(("name", "probe"), [("db", "pg_isready"), ("redis", "redis-cli")])
def test_backing_services_have_healthchecks(name: str, probe: str) -> None:
    healthcheck = service(name).get("healthcheck") or {}
    test = healthcheck.get("test")
    assert test, f"{name} has no healthcheck"
    assert probe in (test if isinstance(test, str) else " ".join(test))


def test_backing_services_keep_data_in_named_volumes() -> None:
    named = load_compose().get("volumes") or {}
    for name in ("db", "redis"):
        sources = [str(v).split(":")[0] for v in service(name).get("volumes") or []]
        assert any(source in named for source in sources), f"{name} has no named volume"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_backing_services(name: str) -> None:
    deps = depends_on(name)
    for backing in ("db", "redis"):
        assert deps.get(backing, {}).get("condition") == "service_healthy", (
            f"{name} must wait for {backing} to be healthy"
        )


@pytest.mark.parametrize("name", ("worker", "beat"))
def test_worker_and_beat_wait_for_migrations(name: str) -> None:
    assert depends_on(name).get("web", {}).get("condition") == "service_healthy"


def test_web_healthcheck_hits_healthz() -> None:
    healthcheck = service("web").get("healthcheck") or {}
    test = healthcheck.get("test")
    assert test, "web has no healthcheck"
    text = test if isinstance(test, str) else " ".join(test)
    assert "urllib" in text
    assert "/healthz" in text
    assert "8000:8000" in [str(p) for p in service("web").get("ports") or []]


def test_mailpit_ports() -> None:
    ports = [str(p) for p in service("mailpit").get("ports") or []]
    assert any(p.endswith(":8025") for p in ports)
    assert any(p.endswith(":1025") for p in ports)


def test_dockerfile_installs_cjk_font_and_package() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = re.sub(r"\\\n", " ", text)  # join continued lines
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", instructions, re.M)
    from services.pdf.fonts import FONTS

    for package in {package for package, *_rest in FONTS.values()}:
        assert re.search(rf"apt-get install .*\b{package}\b", instructions, re.S), package
    assert re.search(r"^RUN .*pip install --no-cache-dir \.(\s|$)", instructions, re.M)
    users = re.findall(r"^USER\s+(\S+)", instructions, re.M)
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    assert re.search(r"^ENV .*SOKAI_INSTANCE_PATH=/var/lib/sokai\b", instructions, re.M)
    assert re.search(r"^VOLUME .*/var/lib/sokai", instructions, re.M)
    assert re.search(r"^EXPOSE 8000\b", instructions, re.M)
    assert re.search(r"^CMD .*gunicorn", instructions, re.M)


def test_docker_compose_config_accepts_the_file_with_the_tls_profile() -> None:
    """`docker compose config` (or Debian's docker-compose) parses and validates the file,
    with Caddy in front under the "tls" profile, and its Caddyfile is in the repository."""
    import os
    import shutil
    import subprocess

    command = (["docker-compose"] if shutil.which("docker-compose") else
               ["docker", "compose"] if shutil.which("docker") else None)
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is missing: .ci/run installs it")
        pytest.skip("no docker compose here")
    env = {**os.environ, "SECRET_KEY": "x", "COMPOSE_PROFILES": "tls",
           "SOKAI_DOMAIN": "sokai.example.org"}
    checked = subprocess.run([*command, "-f", str(COMPOSE_FILE), "config"], env=env,
                             capture_output=True, text=True, timeout=120)
    if "unknown" in checked.stderr and command[0] == "docker":
        pytest.skip("this docker has no compose plugin")
    assert checked.returncode == 0, checked.stderr
    config = yaml.safe_load(checked.stdout)
    caddy = config["services"]["caddy"]
    assert caddy["environment"]["SOKAI_DOMAIN"] == "sokai.example.org"
    assert any(str(v.get("source", v)).endswith("deploy/Caddyfile") if isinstance(v, dict)
               else "deploy/Caddyfile" in v for v in caddy["volumes"])
    assert (ROOT / "deploy" / "Caddyfile").read_text().count("reverse_proxy web:8000") == 1
