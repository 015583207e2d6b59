"""Who may use the chat server: credentials from settings, the rule that a network bind needs them, and a
throttle on guessing them."""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from assistant.settings import Settings

Credentials = list[tuple[str, str]]


class AuthError(ValueError):
    """The server cannot start safely with the credentials (or lack of them) given."""


def parse_credentials(text: str, origin: str) -> Credentials:
    """`user:password` entries separated by commas or newlines; blank lines and `#` comments are skipped."""
    found: Credentials = []
    for raw in text.replace(",", "\n").splitlines():
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise AuthError(f"{origin}: expected user:password, got an entry without both parts")
        found.append((user, password))
    return found


def credentials(settings: Settings) -> Credentials:
    """Every login allowed by ASSISTANT_AUTH and ASSISTANT_AUTH_FILE (none when neither is set)."""
    found = parse_credentials(settings.auth, "ASSISTANT_AUTH")
    if settings.auth_file:
        path = Path(settings.auth_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise AuthError(f"cannot read the auth file {path}: {e.strerror or e}") from None
        entries = parse_credentials(text, str(path))
        if not entries:
            raise AuthError(f"the auth file {path} has no user:password line")
        found += entries
    return found


def is_local(host: str) -> bool:
    """Only this machine can connect to `host` (a loopback name or address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, logins: Credentials, no_auth: bool) -> None:
    """Refuse to serve a non-local host without a password unless the user explicitly said `--no-auth`."""
    if logins or no_auth or is_local(host):
        return
    raise AuthError(
        f"refusing to serve on {host} without a password: anyone who can reach it could read and change the "
        "index. Set ASSISTANT_AUTH=user:password (or ASSISTANT_AUTH_FILE=path), or pass --no-auth if a proxy "
        "in front of it already checks who connects."
    )


def allowed(logins: Credentials, user: str, password: str) -> bool:
    """Whether `user`/`password` is one of `logins` (compared in constant time)."""
    ok = False
    for known_user, known_password in logins:
        ok |= secrets.compare_digest(user.encode(), known_user.encode()) & secrets.compare_digest(
            password.encode(), known_password.encode()
        )
    return ok


class LoginThrottle:
    """Refuses every login from an address that failed `limit` times within `window` seconds, for `lockout`
    seconds: passwords are then guessed at a few a minute, not hundreds a second.

    Used from the server's event loop only (one thread), so it needs no lock.
    """

    def __init__(
        self, limit: int = 5, window: float = 60.0, lockout: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.lockout, self.clock = limit, window, lockout, clock
        self._failures: dict[str, deque[float]] = {}  # times of each address's recent failures
        self._blocked: dict[str, float] = {}  # until when an address is refused

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        left = self._blocked.get(client, 0.0) - self.clock()
        return math.ceil(left) if left > 0 else 0

    def failed(self, client: str) -> None:
        now = self.clock()
        self._forget_stale(now)
        recent = self._failures.setdefault(client, deque())
        recent.append(now)
        while recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            del self._failures[client]
            self._blocked[client] = now + self.lockout

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _forget_stale(self, now: float) -> None:
        """Drop addresses whose failures are all older than the window and lockouts that ended, so guesses from
        many addresses cannot grow this without bound."""
        self._failures = {c: times for c, times in self._failures.items() if times[-1] > now - self.window}
        self._blocked = {c: until for c, until in self._blocked.items() if until > now}
