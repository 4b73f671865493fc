"""mailers/transport.py `_classify`, over the exceptions aiosmtplib really raises.

Which failures are permanent, and which mean the server is unavailable. A permanent
failure (a 5xx reply about the message) stops retrying after a few attempts; an unavailable
server ends the worker's batch, since the next e-mail would fail the same way; anything
else is retried with backoff. test_mail_delivery.py covers a few of these end to end.
"""

from __future__ import annotations

import socket

import aiosmtplib
import pytest

from mailers.transport import DeliveryError, _classify


def refused(*codes: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [
            aiosmtplib.SMTPRecipientRefused(code, f"reply {code}", f"to{n}@example.com")
            for n, code in enumerate(codes)
        ]
    )


def test_recipients_refused_with_5xx_is_permanent() -> None:
    error = _classify(refused(550))
    assert isinstance(error, DeliveryError)
    assert error.permanent and not error.server_unavailable
    assert "550 reply 550" in str(error)


def test_recipients_refused_with_4xx_is_not_permanent() -> None:
    error = _classify(refused(450))
    assert not error.permanent and not error.server_unavailable
    assert "450" in str(error)


def test_one_temporary_refusal_among_permanent_ones_is_worth_a_retry() -> None:
    error = _classify(refused(550, 451))
    assert not error.permanent
    assert "550 reply 550" in str(error) and "451 reply 451" in str(error)


def test_no_refused_recipients_is_not_permanent() -> None:
    assert not _classify(aiosmtplib.SMTPRecipientsRefused([])).permanent


@pytest.mark.parametrize("code", [535, 454])
def test_an_authentication_error_is_never_permanent(code: int) -> None:
    # The configuration is wrong, not the e-mail: keep it until an operator fixes it.
    error = _classify(aiosmtplib.SMTPAuthenticationError(code, "Authentication failed"))
    assert not error.permanent and not error.server_unavailable
    assert str(error) == f"authentication failed: {code} Authentication failed"


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (aiosmtplib.SMTPDataError(552, "Message too big"), True),
        (aiosmtplib.SMTPDataError(451, "Try again later"), False),
        (aiosmtplib.SMTPSenderRefused(553, "Sender refused", "no-reply@example.com"), True),
        (aiosmtplib.SMTPSenderRefused(421, "Busy", "no-reply@example.com"), False),
        (aiosmtplib.SMTPResponseException(500, "Syntax error"), True),
        (aiosmtplib.SMTPResponseException(499, "Odd"), False),
    ],
)
def test_other_replies_are_permanent_from_500(
    error: aiosmtplib.SMTPResponseException, permanent: bool
) -> None:
    classified = _classify(error)
    assert classified.permanent is permanent
    assert not classified.server_unavailable
    assert str(classified).startswith(str(error.code))


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPConnectResponseError(554, "No service here"),
        aiosmtplib.SMTPConnectResponseError(421, "Too many connections"),
        aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 25"),
        aiosmtplib.SMTPConnectTimeoutError("Timed out connecting to 127.0.0.1 on port 25"),
        aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"),
        aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"),
        aiosmtplib.SMTPTimeoutError("Timed out"),
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        socket.gaierror(-2, "Name or service not known"),
        OSError(101, "Network is unreachable"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_connect_errors_and_timeouts_mean_the_server_is_unavailable(error: Exception) -> None:
    classified = _classify(error)
    assert classified.server_unavailable
    assert not classified.permanent  # even a 5xx greeting: another server may answer later


def test_an_unexpected_error_is_retried_without_ending_the_batch() -> None:
    classified = _classify(ValueError("something else"))
    assert not classified.permanent and not classified.server_unavailable
    assert str(classified) == "ValueError: something else"
