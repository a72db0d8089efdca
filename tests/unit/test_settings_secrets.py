"""The secret that signs sessions: never the public development key on a server others can
reach, and never by default on a server started as the README says (issue 15, item 3)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dingdan.cli import app as cli
from dingdan.settings import DEV_SECRET_KEY, Settings, with_local_secret

REAL = "r" * 40


@pytest.fixture(autouse=True)
def _no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DINGDAN_SECRET_KEY", "DINGDAN_ENV", "DINGDAN_HOST", "DINGDAN_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_the_development_or_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="DINGDAN_SECRET_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="DINGDAN_SECRET_KEY"):
        Settings(env="production", secret_key="s" * 31)
    assert Settings(env="production", secret_key=REAL, host="0.0.0.0").host == "0.0.0.0"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "dingdan.example.com"])
def test_development_refuses_to_listen_beyond_this_machine_with_the_public_key(host) -> None:
    with pytest.raises(ValidationError, match=f"refusing to listen on {host}"):
        Settings(env="development", host=host)
    assert Settings(env="development", host=host, secret_key=REAL).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_development_with_the_public_key_may_listen_on_loopback(host) -> None:
    assert Settings(env="development", host=host).uses_development_secret


def test_serve_on_all_interfaces_with_the_public_key_stops_with_a_message(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DINGDAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/d.db")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output
    assert not (tmp_path / "d.db").exists()  # refused before anything was done


def test_a_development_server_makes_its_own_private_key_once(tmp_path: Path) -> None:
    path = tmp_path / ".dingdan_secret"
    s = Settings(env="development", secret_key_file=path)
    served = with_local_secret(s)
    key = served.secret_key.get_secret_value()
    assert key != DEV_SECRET_KEY and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert with_local_secret(s).secret_key.get_secret_value() == key  # kept across restarts
    other = tmp_path / "other"
    assert with_local_secret(Settings(env="development", secret_key_file=other)) \
        .secret_key.get_secret_value() != key
    assert set(tmp_path.iterdir()) == {path, other}  # no temporary file left behind


def test_a_chosen_key_and_other_environments_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / ".dingdan_secret"
    chosen = Settings(env="development", secret_key=REAL, secret_key_file=path)
    assert with_local_secret(chosen) is chosen
    test = Settings(env="test", secret_key_file=path)
    assert with_local_secret(test) is test
    assert not path.exists()
