"""Requests kept under an Idempotency-Key, in the database every process shares.

The first request with a user's key inserts a row that holds the key while it runs (the
unique (user, key) index lets one insert win, in any number of processes); the request's
response then replaces the hold and is replayed for `KEEP_FOR`. A request that fails
gives the key back (`release`), so the client can retry it. The hold of a process that
dies while it runs a request simply runs out (`hold`: as long as a request may run, and a
margin), and the next request with the key runs.

What is stored of the request is an HMAC of it under a server key, so the same request
can be recognised without its variables (passwords, personal data) being kept or
guessable from a plain hash. The response is kept as sent, up to MAX_KEPT_BYTES (the
caller keeps a short marker in place of a larger one, and of any holding a secret): it may
carry personal data, so it is deleted once it can no longer be replayed (`purge`, a chore
of the delivery worker).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from enum import Enum

from tortoise.exceptions import IntegrityError

from infra import clock
from infra.mail_worker import Chore
from infra.secrets import server_secret
from models import IdempotencyKey

logger = logging.getLogger("milestones.idempotency")

# How long a response is replayed: the draft's and Stripe's 24 hours.
KEEP_FOR = dt.timedelta(hours=24)
# The most a row keeps of a response. Mutation payloads are small (the reference page asks
# for an id and the errors); a project with its 100 milestones is about 30 KB. A response
# may be as large as MAX_RESPONSE_BYTES (8 MiB): kept for a day, under every key a user may
# send within the rate limits, that was gigabytes a user.
MAX_KEPT_BYTES = 64 * 1024
# How often the delivery worker deletes what expired.
PURGE_EVERY_SECONDS = 600.0
# A request finds a hold or a kept row taken over by another at most this many times in a
# row before it gives up as "in use" (only a storm of takeovers of one expired key does).
_ATTEMPTS = 3


class Refusal(Enum):
    """Why a request with a key is not run (the edge says it with an error code)."""

    IN_USE = "in use"  # the key's first request still runs
    REUSED = "reused"  # the key was held for another request


@dataclass(frozen=True, slots=True)
class Held:
    """This request holds the key: run it, then `keep` its response or `release` the key."""

    row_id: int
    holder: str


@dataclass(frozen=True, slots=True)
class Kept:
    """The response the first request with this key got."""

    status_code: int
    content_type: str
    body: bytes


_secret: bytes | None = None


async def _fingerprint(request: bytes) -> str:
    global _secret
    if _secret is None:
        _secret = await server_secret("idempotency")
    return hmac.new(_secret, request, hashlib.sha256).hexdigest()


async def claim(
    user_id: int, key: str, request: bytes, hold: dt.timedelta
) -> Held | Kept | Refusal:
    """Hold `key` for this request of `user_id`, or say why not, or give the kept response.

    `request` is the request in a canonical form: the same bytes for a true retry.
    """
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    fingerprint = await _fingerprint(request)
    for _ in range(_ATTEMPTS):
        holder, at = uuid.uuid4().hex, clock.now()
        try:
            row = await IdempotencyKey.create(
                user_id=user_id,
                key_hash=key_hash,
                fingerprint=fingerprint,
                holder=holder,
                expires_at=at + hold,
            )
            return Held(row.id, holder)
        except IntegrityError:
            pass  # the key is known: read what it holds
        found = await IdempotencyKey.get_or_none(user_id=user_id, key_hash=key_hash)
        if found is None:
            continue  # purged meanwhile: insert again
        if found.expires_at > at:
            return _existing(found, fingerprint)
        # Expired (a kept response past its day, or a hold whose process died): take it
        # over, conditionally, so that of several requests doing this one wins.
        taken = await IdempotencyKey.filter(id=found.id, holder=found.holder).update(
            fingerprint=fingerprint,
            holder=holder,
            status_code=None,
            content_type="",
            body=None,
            expires_at=at + hold,
        )
        if taken:
            return Held(found.id, holder)
    return Refusal.IN_USE


def _existing(row: IdempotencyKey, fingerprint: str) -> Kept | Refusal:
    # The draft: the same key with another request is refused whether or not it still runs.
    if not hmac.compare_digest(row.fingerprint, fingerprint):
        return Refusal.REUSED
    if row.status_code is None or row.body is None:
        return Refusal.IN_USE
    return Kept(row.status_code, row.content_type, bytes(row.body))


async def keep(held: Held, response: Kept) -> bool:
    """Store the response of the request holding the key; False if its hold was lost."""
    if len(response.body) > MAX_KEPT_BYTES:
        raise ValueError(f"a kept response is at most {MAX_KEPT_BYTES} bytes")
    stored = await IdempotencyKey.filter(id=held.row_id, holder=held.holder).update(
        status_code=response.status_code,
        content_type=response.content_type,
        body=response.body,
        expires_at=clock.now() + KEEP_FOR,
    )
    return bool(stored)


async def release(held: Held) -> None:
    """Give the key back after a failure: the next request with it runs."""
    await IdempotencyKey.filter(id=held.row_id, holder=held.holder).delete()


async def purge() -> int:
    """Delete expired rows: responses no longer replayed, holds of processes that died."""
    return await IdempotencyKey.filter(expires_at__lte=clock.now()).delete()


async def _purge_pass() -> float:
    deleted = await purge()
    if deleted:
        logger.info("deleted %d expired idempotency keys", deleted)
    return PURGE_EVERY_SECONDS


def chore() -> Chore:
    """The purge of expired keys, run by the delivery worker."""
    return Chore("idempotency keys", _purge_pass)
