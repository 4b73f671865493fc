"""From an outbox row to a sent e-mail: the RFC 5322 message, and the SMTP and file transports.

The delivery worker (infra.mail_worker) builds the message with `build_message` and hands
it to a `Transport`. Transports raise `DeliveryError`, which says whether a retry can help.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, Policy, default
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import aiosmtplib

from models import OutboxEmail
from settings import Settings

logger = logging.getLogger("milestones.mail")


class DeliveryError(Exception):
    """An attempt that did not deliver.

    `permanent`: the server refused the message itself (5xx), so retrying is unlikely to help.
    `server_unavailable`: the server could not be reached or dropped us; the next e-mail
    would fail the same way, so the worker stops its batch instead of trying each one.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, server_unavailable: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.server_unavailable = server_unavailable


def _one_line(value: str) -> str:
    # Titles are validated, but a header must never be split by stored data (header injection).
    return " ".join(part.strip() for part in re.split(r"[\r\n]+", value) if part.strip())


# Bytes of UTF-8 per encoded-word: base64 makes 52 characters of them, so "Subject: " and
# the first word fit in 78 columns, and each further word on a line of its own.
_ENCODED_WORD_BYTES = 39


class LiteralSubject(str):
    """A Subject that reaches the reader exactly as written, encoded-word lookalikes and all.

    The email package takes a header's text as already RFC 2047-encoded: it decodes any
    `=?charset?b?...?=` inside it, and writes plain ASCII back out unencoded, so a title
    that ends in such a sequence would be shown as whatever the sequence decodes to. This
    header object (the policy keeps objects with a `name` as they are) is folded into
    UTF-8 base64 encoded-words of the whole text, which decode to nothing but that text.
    """

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        words, word = [], b""
        for char in self:
            data = char.encode()
            # Whole characters per word: RFC 2047 forbids splitting one across two.
            if len(word) + len(data) > _ENCODED_WORD_BYTES:
                words.append(word)
                word = b""
            word += data
        words.append(word)
        encoded = [f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words]
        # Adjacent encoded-words decode with the whitespace between them dropped.
        return f"{self.name}: " + f"{policy.linesep} ".join(encoded) + policy.linesep


# RFC 5322 2.1.1: no line of a message may exceed 998 characters, CRLF excluded.
_MAX_LINE = 998


class RawHeader(str):
    """A header that goes out exactly as written, for readers that never decode RFC 2047.

    Mail providers read `List-Unsubscribe` and `List-Unsubscribe-Post` as raw text. Given
    a plain string, the email package folds any header longer than 78 columns, and a URL,
    having no whitespace to fold at, is turned into encoded-words instead
    (`=?utf-8?q?=3Chttps=3A//...`): no provider finds a URL in that, and one-click
    unsubscribe silently does not work. This one stays on one line: RFC 5322 asks lines to
    keep to 78 columns only where they can, and allows up to 998.
    """

    name: str

    def __new__(cls, name: str, value: str) -> RawHeader:
        value = _one_line(value)
        if not value.isascii() or len(f"{name}: {value}") > _MAX_LINE:
            raise ValueError(f"{name} must be ASCII and fit on one line of {_MAX_LINE}")
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def ascii_url(url: str) -> str:
    """`url` as a header may carry it: an international host name in its IDNA form, and
    any other non-ASCII character percent-encoded (PUBLIC_URL may name such a host)."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode()
    netloc = host + (f":{parts.port}" if parts.port else "")
    path = quote(parts.path, safe="/%-._~!$&'()*+,;=:@")
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def subject_header(text: str) -> str:
    """The Subject header value for `text`: one line, and inert if it looks encoded."""
    line = _one_line(text)
    return LiteralSubject(line) if "=?" in line else line


def build_message(email: OutboxEmail, mail_from: str) -> EmailMessage:
    """The message for `email`: multipart/alternative text and HTML, headers encoded safely.

    Raises ValueError when the row cannot make a valid message (e.g. a malformed address).
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = mail_from
    message["To"] = Address(display_name=_one_line(email.to_name), addr_spec=email.to_address)
    message["Subject"] = subject_header(email.subject)
    # The time of the change that caused the e-mail, stable across retries like Message-ID.
    message["Date"] = format_datetime(email.created_at.astimezone(dt.UTC), usegmt=True)
    message["Message-ID"] = email.message_id
    # RFC 3834: tells auto-responders (vacation replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    if email.list_unsubscribe:
        # RFC 8058 one-click unsubscribe: mail providers POST the second header's body to
        # the URL of the first. Both raw: see RawHeader.
        unsubscribe = f"<{ascii_url(email.list_unsubscribe)}>"
        message["List-Unsubscribe"] = RawHeader("List-Unsubscribe", unsubscribe)
        message["List-Unsubscribe-Post"] = RawHeader(
            "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"
        )
    # Quoted-printable keeps every line 7-bit and short, whatever the server supports.
    message.set_content(email.text_body, subtype="plain", cte="quoted-printable")
    message.add_alternative(email.html_body, subtype="html", cte="quoted-printable")
    return message


class Transport(Protocol):
    """Somewhere e-mails go."""

    async def deliver(self, email: OutboxEmail, message: EmailMessage) -> None:
        """Deliver `message` (built from `email`) or raise DeliveryError."""
        ...

    async def idle(self) -> None:
        """Nothing more to send for now: release what is held open."""
        ...

    async def close(self) -> None:
        """The worker is stopping."""
        ...


def _classify(error: Exception) -> DeliveryError:
    """Whether retrying can help: 5xx replies are permanent, everything else is not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        return DeliveryError(text, permanent=bool(codes) and min(codes) >= 500)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        # A configuration problem that an operator fixes; the e-mail itself is fine.
        return DeliveryError(f"authentication failed: {error.code} {error.message}")
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return DeliveryError(f"{error.code} {error.message}", server_unavailable=True)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return DeliveryError(f"{error.code} {error.message}", permanent=error.code >= 500)
    if isinstance(error, (OSError, TimeoutError, aiosmtplib.SMTPException)):
        # Refused, unreachable, timed out, disconnected (the aiosmtplib ones are OSErrors too).
        return DeliveryError(f"{type(error).__name__}: {error}", server_unavailable=True)
    return DeliveryError(f"{type(error).__name__}: {error}")


class SmtpTransport:
    """Sends through SMTP_HOST, reusing one connection while there is mail to send."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = parseaddr(settings.mail_from)[1]
        self._smtp: aiosmtplib.SMTP | None = None

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password if s.smtp_username else None,
            use_tls=s.smtp_tls == "tls",
            # False, not None: with SMTP_TLS=none we never upgrade, as configured.
            start_tls=s.smtp_tls == "starttls",
            # Applies to the connect and to each command of a send.
            timeout=s.smtp_timeout_seconds,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        # After an error the session state is unknown; the next e-mail gets a new connection.
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    async def deliver(self, email: OutboxEmail, message: EmailMessage) -> None:
        try:
            smtp = await self._connection()
            await smtp.send_message(message, sender=self.sender, recipients=[email.to_address])
        except asyncio.CancelledError:
            self._drop()
            raise
        except Exception as e:
            self._drop()
            raise _classify(e) from e

    async def idle(self) -> None:
        await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit(timeout=self.settings.smtp_timeout_seconds)
        except (OSError, aiosmtplib.SMTPException):
            smtp.close()


class FileTransport:
    """Writes each e-mail to MAIL_DIR as `<id>-<kind>.eml`, for development without SMTP."""

    def __init__(self, settings: Settings) -> None:
        self.directory = Path(settings.mail_dir)

    def path_for(self, email: OutboxEmail) -> Path:
        # Zero-padded ids sort like the e-mails were queued; the kind makes the folder skimmable.
        kind = "".join(c if c.isalnum() or c in "-_" else "_" for c in email.kind)
        return self.directory / f"{email.id:08d}-{kind}.eml"

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a crash never leaves half a file, and a redelivery after a crash
        # replaces the same file instead of adding a second one.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    async def deliver(self, email: OutboxEmail, message: EmailMessage) -> None:
        data = message.as_bytes(policy=default)  # LF line ends: friendlier in an editor
        try:
            await asyncio.to_thread(self._write, self.path_for(email), data)
        except OSError as e:
            raise DeliveryError(f"cannot write to {self.directory}: {e}") from e

    async def idle(self) -> None:
        return None

    async def close(self) -> None:
        return None


def make_transport(settings: Settings) -> Transport:
    """SMTP when SMTP_HOST is set, else .eml files under MAIL_DIR (the contract's default)."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings)
