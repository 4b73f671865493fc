"""Accounts: sign-up, log-in, bearer tokens and the viewer behind a request.

A token works until it is revoked or expires; either ends it everywhere (services.sessions).
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError

from models import AccessToken, Role, User, hash_token
from services import sessions, throttles
from services.errors import UserInputError
from services.validation import Checker

# Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong against
# offline guessing while keeping a log-in cheap enough for a busy API on two cores.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this keeps a log-in for an unknown e-mail as slow as for a known one.
# Written out rather than hashed at import, which would cost every start-up an Argon2 run;
# tests/test_unit_dummy_hash.py checks it still matches `_hasher`'s parameters.
_DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$zcgacX47QCmUl2WxJkgnKw"
    "$3wbhapNwxXlq0uAqZkpbbJklo41XZtD7jK5syU5DQfg"
)


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify_password(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def issue_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    await AccessToken.create(user=user, token_hash=hash_token(token))
    return token


async def user_for_token(token: str) -> User | None:
    """The user a bearer token belongs to, or None when unknown, revoked or expired."""
    if not token or len(token) > 200:
        return None
    return await sessions.user_for(hash_token(token))


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value, or ''."""
    if not header:
        return ""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def revoke_token(token: str) -> bool:
    """End this token's session: HTTP requests and every socket opened with it."""
    return await sessions.end_tokens([hash_token(token)]) > 0


async def revoke_all_tokens(user: User) -> bool:
    """End every session of `user`, on every device and open socket."""
    return await sessions.end_all_of(user) > 0


async def create_user(
    *, email: str, password: str, name: str, role: Role, allowed_roles: tuple[Role, ...]
) -> User:
    check = Checker()
    email = check.email("email", email)
    password = check.password("password", password)
    name = check.line("name", name, label="Name", max_length=120)
    if role not in allowed_roles:
        check.fail("INVALID", "role", "Only clients and freelancers can sign up.")
    check.done()
    if await User.filter(email=email).exists():
        raise UserInputError.single("TAKEN", "email", "This e-mail address is already in use.")
    password_hash = await hash_password(password)
    try:
        return await User.create(email=email, name=name, role=role, password_hash=password_hash)
    except IntegrityError:  # lost a race with another sign-up of the same address
        raise UserInputError.single(
            "TAKEN", "email", "This e-mail address is already in use."
        ) from None


async def sign_up(*, email: str, password: str, name: str, role: Role) -> tuple[User, str]:
    user = await create_user(
        email=email,
        password=password,
        name=name,
        role=role,
        allowed_roles=(Role.CLIENT, Role.FREELANCER),
    )
    return user, await issue_token(user)


async def log_in(*, email: str, password: str, client_address: str) -> tuple[User, str]:
    """A token for the account, unless the password is wrong or the log-in throttles
    (services.throttles) say to wait: their units are taken before the password is checked,
    kept if it was wrong, given back if it was right."""
    key = email.strip().lower()
    throttle = throttles.current()
    attempt = await throttle.before_log_in(key, client_address)
    user = await User.get_or_none(email=key)
    ok = await _verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        raise UserInputError.single("INVALID_CREDENTIALS", None, "Wrong e-mail or password.")
    await throttle.log_in_succeeded(attempt)
    return user, await issue_token(user)
