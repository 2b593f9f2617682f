"""Settings: embedded defaults, and one clear line for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = load_settings({"SOKAI_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'sokai.sqlite3'}"
    assert settings.broker_url == "filesystem://"
    assert settings.redis_url is None and settings.smtp_url is None
    assert set(settings.embedded) == {"database", "broker", "mail", "secret_key"}
    # The generated secret key is kept: the second start reads the same one.
    assert load_settings({"SOKAI_INSTANCE_PATH": str(tmp_path)}).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_real_services(tmp_path: Path) -> None:
    settings = load_settings({
        "SOKAI_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k",
        "DATABASE_URL": "postgresql://u:p%40ss@db:5432/sokai",
        "CELERY_BROKER_URL": "redis://redis:6379/0", "REDIS_URL": "redis://redis:6379/1",
        "SMTP_URL": "smtp://user:pw@mail:587", "SOKAI_BASE_URL": "https://sokai.example.org/",
    })
    # psycopg 3 is the driver when none is named; the encoded password survives.
    assert settings.database_url == "postgresql+psycopg://u:p%40ss@db:5432/sokai"
    assert settings.base_url == "https://sokai.example.org"
    assert settings.embedded == {}
    conf = settings.celery_config()
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1 and conf["task_serializer"] == "json"


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", "nonsense"),
    ("DATABASE_URL", "mysql://root@localhost/sokai"),
    ("CELERY_BROKER_URL", "carrier-pigeon://loft"),
    ("CELERY_BROKER_URL", "redis://localhost:notaport/0"),
    ("REDIS_URL", "localhost:6379"),
    ("SMTP_URL", "http://mail.example.org"),
    ("SOKAI_BASE_URL", "sokai.example.org"),
])
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"SOKAI_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", name: value})
    assert info.value.variable == name
    assert str(info.value).startswith(f"{name}: ")
    assert "\n" not in str(info.value)


def test_sokai_run_with_a_bad_value_exits_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SECRET_KEY": "x", "DATABASE_URL": "nonsense",
           "SOKAI_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "run"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0] and "nonsense" in lines[0]
