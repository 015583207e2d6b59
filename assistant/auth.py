"""Who may use the chat server: credentials from settings, and the rule that a network bind needs them."""

from __future__ import annotations

import ipaddress
import secrets
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
