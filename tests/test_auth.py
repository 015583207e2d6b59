from pathlib import Path

import pytest

from assistant.auth import AuthError, LoginThrottle, allowed, check_bind, credentials, is_local, parse_credentials
from assistant.settings import Settings


def test_parse_credentials() -> None:
    assert parse_credentials("ann:pw1, bob:p:w:2\n# comment\n", "x") == [("ann", "pw1"), ("bob", "p:w:2")]
    with pytest.raises(AuthError, match="expected user:password"):
        parse_credentials("justaname", "ASSISTANT_AUTH")


def test_credentials_from_env_and_file(tmp_path: Path) -> None:
    file = tmp_path / "users"
    file.write_text("carol:secret\n", encoding="utf-8")
    settings = Settings.from_env({"ASSISTANT_AUTH": "ann:pw", "ASSISTANT_AUTH_FILE": str(file)})
    assert credentials(settings) == [("ann", "pw"), ("carol", "secret")]
    assert "pw" not in repr(settings)  # the password never shows up in a printed Settings
    with pytest.raises(AuthError, match="cannot read the auth file"):
        credentials(Settings(auth_file=str(tmp_path / "missing")))
    assert credentials(Settings()) == []


def test_non_local_bind_needs_credentials_or_no_auth() -> None:
    with pytest.raises(AuthError, match="refusing to serve on 0.0.0.0"):
        check_bind("0.0.0.0", [], no_auth=False)
    check_bind("0.0.0.0", [("a", "b")], no_auth=False)
    check_bind("0.0.0.0", [], no_auth=True)
    check_bind("127.0.0.1", [], no_auth=False)


def test_is_local() -> None:
    assert all(is_local(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_local(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org"))


def test_allowed() -> None:
    logins = [("ann", "pw"), ("bob", "pw2")]
    assert allowed(logins, "bob", "pw2")
    assert not allowed(logins, "bob", "pw")
    assert not allowed(logins, "eve", "pw")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_locks_out_an_address_after_repeated_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=3, window=60, lockout=30, clock=clock)
    for _ in range(2):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0  # two failures: still allowed
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 30 and throttle.retry_after("10.0.0.2") == 0
    clock.now += 29.5
    assert throttle.retry_after("10.0.0.1") == 1
    clock.now += 0.5
    assert throttle.retry_after("10.0.0.1") == 0  # the lockout is over, and its failures were forgotten
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0


def test_the_throttle_counts_only_recent_failures_since_the_last_success() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=3, window=60, lockout=30, clock=clock)
    throttle.failed("a")
    throttle.failed("a")
    throttle.succeeded("a")
    throttle.failed("a")
    throttle.failed("a")
    assert throttle.retry_after("a") == 0
    clock.now += 61  # both out of the window
    throttle.failed("a")
    throttle.failed("a")
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    assert throttle.retry_after("a") == 30
