"""Secrets the server makes for itself and every process shares, kept in the database."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ServerSecret(Model):
    """A named random key (e.g. the one that signs global IDs), created once, on first use."""

    name = fields.CharField(max_length=64, primary_key=True)
    value = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "server_secret"

    def __str__(self) -> str:
        # Never the value: a key in a log is a key given away.
        return f"secret {self.name}"
