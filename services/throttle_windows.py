"""The rate-limit windows every budget counts in (services/throttles.py), by name, with the
sizes that let a person at a keyboard through and stop a script early; the operator resizes
any of them with RATE_LIMITS."""

from __future__ import annotations

from infra.windows import Window

MINUTE, HOUR, DAY = 60, 3600, 86400

DEFAULT_WINDOWS = {
    window.name: window
    for window in (
        # Sign-ups per client address: an office, a campus or a carrier's NAT may sign up
        # dozens of people an hour behind one address; a hundred in ten minutes, or a
        # thousand a day, is a script making accounts.
        Window("sign_up_burst", 100, 10 * MINUTE),
        Window("sign_up_daily", 1000, DAY),
        # Log-in attempts per address, whatever their outcome: each costs ~50 ms of argon2,
        # so this bounds the CPU one address can spend (a quarter of a core) without
        # troubling a shared address; guessing is caught by the failure caps below.
        Window("log_in_attempts", 300, MINUTE),
        # Failed log-ins per address, across accounts: typos come one or two at a time;
        # twenty failures in ten minutes from one address is a password being sprayed.
        Window("log_in_address_failures_burst", 20, 10 * MINUTE),
        Window("log_in_address_failures_daily", 200, DAY),
        # Failed log-ins of one account, from anywhere: one address can fail it at most
        # ~17 times an hour (the rising waits below), so only guessing spread over many
        # addresses reaches this; it slows that to 100 guesses an hour.
        Window("log_in_account_failures", 100, HOUR),
        # Projects per user: each is a form filled in by hand, a minute or more apiece.
        Window("create_project_burst", 10, 10 * MINUTE),
        Window("create_project_daily", 100, DAY),
        # Chat messages per user: nobody types thirty messages in ten seconds, nor keeps up
        # one every six seconds for an hour.
        Window("chat_burst", 30, 10),
        Window("chat_steady", 600, HOUR),
        # Milestone changes (add, edit, tick, delete) per user, each e-mailing the client:
        # a planning session makes a few a minute, and a client app importing a plan adds
        # one project's worth (up to 100, the cap) at once; past that it is a mail flood.
        Window("milestones_burst", 100, MINUTE),
        Window("milestones_daily", 1000, DAY),
        # Calendar feed downloads per feed owner: every calendar app of theirs polls (each
        # device, each per-project feed), at most every few minutes; sixty in a minute, or
        # twenty thousand a day, is a loop, not a calendar.
        Window("calendar_feed_burst", 60, MINUTE),
        Window("calendar_feed_daily", 20000, DAY),
        # Feed URLs that name no feed, per address: a rotated URL still polled by a few apps
        # stays far below; past this the address is refused feeds before any lookup.
        Window("calendar_feed_misses", 300, 10 * MINUTE),
        # New feed URLs per user: each one is clicked, then pasted into a calendar app.
        Window("calendar_feed_rotations", 20, HOUR),
    )
}
