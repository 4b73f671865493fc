"""The stand-in hash a log-in for an unknown e-mail is checked against (services/auth.py).

It is written out in the code so that start-up does not pay for an Argon2 run; it only keeps
an unknown e-mail as slow as a known one while it costs what a real account's hash costs.
"""

from __future__ import annotations

from services import auth


def test_dummy_hash_has_the_parameters_of_real_hashes() -> None:
    assert not auth._hasher.check_needs_rehash(auth._DUMMY_HASH)


def test_dummy_hash_is_a_real_argon2_hash() -> None:
    assert auth._hasher.verify(auth._DUMMY_HASH, "not-a-real-password")
