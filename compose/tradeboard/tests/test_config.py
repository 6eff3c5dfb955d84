"""Configuration from TB_* variables."""

from __future__ import annotations

import pytest

from tradeboard.config import ConfigError, load_settings

REQUIRED = {"TB_DATABASE_URL": "postgresql+psycopg://u:p@h:1/d", "TB_S3_ENDPOINT": "http://s3",
            "TB_SECRET_KEY": "k"}


def test_defaults_match_the_contract() -> None:
    s = load_settings(REQUIRED)
    assert (s.s3_access_key, s.s3_secret_key, s.s3_region) == ("test", "test", "us-east-1")
    assert (s.bucket_landing, s.bucket_quarantine, s.bucket_exports) == \
        ("landing", "quarantine", "exports")
    assert (s.access_token_ttl, s.refresh_token_ttl) == (900, 86400)
    assert (s.login_max_failures, s.login_window, s.max_upload_bytes) == (5, 60, 20_000_000)
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert (s.rate_limit, s.rate_window) == (600, 60)
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8000)
    assert (s.web_host, s.web_port) == ("127.0.0.1", 8080)
    assert s.api_public_url == "http://127.0.0.1:8000"
    assert (s.poll_interval, s.export_chunk_rows, s.export_chunk_delay) == (0.2, 500, 0.05)
    assert s.heartbeat_max_age == 15
    assert (s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism) == (3, 65536, 4)


def test_overrides_and_types() -> None:
    s = load_settings({**REQUIRED, "TB_API_PORT": "18001", "TB_POLL_INTERVAL": "0.5",
                       "TB_VERSION": "9.9"})
    assert (s.api_port, s.poll_interval, s.version) == (18001, 0.5, "9.9")


def test_redis_and_rate_limit_overrides() -> None:
    s = load_settings({**REQUIRED, "TB_REDIS_URL": "redis://r:1/2", "TB_RATE_LIMIT": "7",
                       "TB_RATE_WINDOW": "3"})
    assert (s.redis_url, s.rate_limit, s.rate_window) == ("redis://r:1/2", 7, 3)


@pytest.mark.parametrize("var", ["TB_RATE_LIMIT", "TB_RATE_WINDOW"])
def test_rate_limit_must_be_positive(var: str) -> None:
    with pytest.raises(ConfigError, match=var):
        load_settings({**REQUIRED, var: "0"})


def test_argon2_memory_below_its_minimum_is_refused() -> None:
    with pytest.raises(ConfigError, match="TB_ARGON2_MEMORY_KIB"):
        load_settings({**REQUIRED, "TB_ARGON2_MEMORY_KIB": "16", "TB_ARGON2_PARALLELISM": "4"})


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required(missing: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_a_process_may_need_less() -> None:
    s = load_settings({}, require=())
    assert s.database_url == ""


@pytest.mark.parametrize(("var", "value"), [("TB_API_PORT", "eighty"), ("TB_LOGIN_WINDOW", "0"),
                                            ("TB_EXPORT_CHUNK_DELAY", "-1")])
def test_invalid_values(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        load_settings({**REQUIRED, var: value})


def test_text_with_a_nul_byte_is_a_client_error_not_a_server_error():
    import psycopg
    import sqlalchemy.exc

    from tradeboard.errors import _is_nul_text

    cause = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    wrapped = sqlalchemy.exc.DataError("INSERT ...", {}, cause)
    assert _is_nul_text(wrapped)
    assert not _is_nul_text(psycopg.DataError("numeric field overflow"))
