"""Machinery: transactions, chat event fan-out, the e-mail outbox and its worker, rate limits.

Nothing here knows a business rule or GraphQL; `services/` builds on it.
"""
