"""services/throttles.py: the rising waits of log-in, the budgets' keys and sizes, and the
log-in and per-action rules on in-memory counts (end to end: tests/security/test_throttles.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from infra.rate_limit import RateLimits
from services import throttles
from services.errors import RateLimited
from services.throttles import DEFAULT_WINDOWS, RisingDelay, Throttles
from settings import SettingError, Settings


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (8, 8), (13, 256), (14, 512), (15, 900)],
)
def test_five_failures_are_free_then_the_wait_doubles_to_the_cap(failures: int, wait: int) -> None:
    assert RisingDelay().after(failures) == wait


def test_the_wait_stays_at_the_cap_however_many_failures() -> None:
    delay = RisingDelay(free=2, first=3, cap=100)
    assert [delay.after(n) for n in range(2, 8)] == [3, 6, 12, 24, 48, 96]
    assert delay.after(8) == delay.after(10**12) == 100  # no huge power computed


def test_failures_are_counted_until_the_wait_reaches_the_cap() -> None:
    for delay in (RisingDelay(), RisingDelay(free=1, first=1, cap=7), RisingDelay(first=60)):
        rule = delay.rule()
        assert delay.after(rule.kept() - 1) == delay.cap
        assert rule.seconds == delay.memory


def test_the_operator_sets_the_free_failures_and_the_first_wait() -> None:
    counted = Throttles(RateLimits(), [("log_in_rising_wait", 3, 60), ("chat_burst", 4, 10)])
    assert (counted.delay.free, counted.delay.first, counted.delay.cap) == (3, 60, 900)
    assert counted.windows["chat_burst"].amount == 4
    assert "log_in_rising_wait" not in counted.windows


def test_every_budget_names_known_windows_and_every_window_is_used() -> None:
    budgets = [
        throttles.SIGN_UP,
        throttles.CREATE_PROJECT,
        throttles.SEND_CHAT_MESSAGE,
        throttles.CHANGE_MILESTONES,
        throttles.READ_CALENDAR_FEED,
    ]
    # Budgets of one window: rare actions, and failures counted per address.
    single = [throttles.CALENDAR_FEED_MISSES, throttles.ROTATE_CALENDAR_FEED]
    assert all(len(budget.windows) == 1 for budget in single)
    used = {name for budget in budgets + single for name in budget.windows}
    used |= {name for name in DEFAULT_WINDOWS if name.startswith("log_in_")}
    assert used == set(DEFAULT_WINDOWS)
    # Each budget allows a burst, then a steadier rate over a longer window.
    for budget in budgets:
        burst, steady = (DEFAULT_WINDOWS[name] for name in budget.windows)
        assert burst.seconds < steady.seconds
        assert burst.amount / burst.seconds > steady.amount / steady.seconds


def test_the_operator_resizes_windows_by_name() -> None:
    windows = throttles.resized([("chat_burst", 40, 10)])
    assert (windows["chat_burst"].amount, windows["chat_burst"].seconds) == (40, 10)
    assert windows["chat_steady"] == DEFAULT_WINDOWS["chat_steady"]
    with pytest.raises(SettingError, match=r"RATE_LIMITS names no window 'chat'.*log_in_rising"):
        throttles.resized([("chat", 1, 1)])


def test_rate_limits_and_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"RATE_LIMITS": "chat_burst=40/10, sign_up_daily=5/86400", "TRUSTED_PROXIES": "10.0.0.0/8"}
    )
    assert settings.rate_limits == (("chat_burst", 40, 10), ("sign_up_daily", 5, 86400))
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8"]
    for bad in ("chat_burst", "chat_burst=0/10", "chat_burst=5/x", "=5/10"):
        with pytest.raises(SettingError, match="RATE_LIMITS must be"):
            Settings.from_env({"RATE_LIMITS": bad})
    with pytest.raises(SettingError, match="TRUSTED_PROXIES must be"):
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/33"})


def test_an_ipv6_client_counts_as_its_64_block() -> None:
    assert throttles.address_key("2001:db8:1:2::5") == throttles.address_key("2001:db8:1:2::9")
    assert throttles.address_key("2001:db8:1:3::5") != throttles.address_key("2001:db8:1:2::5")
    assert throttles.address_key("192.0.2.1") != throttles.address_key("192.0.2.2")
    assert throttles.address_key("") == "address:"


def test_account_keys_hold_no_address_and_stay_short() -> None:
    key = throttles.account_key("ada@example.com" * 1000)
    assert "example" not in key and len(key) < 50


@pytest.fixture
async def counted() -> AsyncIterator[Throttles]:
    limits = RateLimits()
    yield Throttles(limits, [("chat_burst", 2, 60), ("log_in_address_failures_burst", 8, 60)])
    await limits.close()


async def test_a_budget_is_per_user_and_refused_calls_say_how_long(counted: Throttles) -> None:
    budget = throttles.SEND_CHAT_MESSAGE
    for _ in range(2):
        await counted.spend(budget, user_id=1, address="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        await counted.spend(budget, user_id=1, address="192.0.2.2")  # any address
    assert 59 <= refused.value.extensions["retryAfter"] <= 60
    await counted.spend(budget, user_id=2, address="192.0.2.1")
    await counted.spend(budget, user_id=None, address="192.0.2.1")  # anonymous: not counted


async def _fail(counted: Throttles, email: str, address: str, times: int = 1) -> None:
    """`times` log-ins that fail: their units are taken, and kept."""
    for _ in range(times):
        await counted.before_log_in(email, address)


async def test_log_in_failures_wait_per_address_and_success_clears_them(
    counted: Throttles,
) -> None:
    email, guesser, owner = "ada@example.com", "192.0.2.66", "198.51.100.7"
    await _fail(counted, email, guesser, 5)
    with pytest.raises(RateLimited) as refused:
        await counted.before_log_in(email, guesser)
    assert refused.value.extensions["retryAfter"] == 1
    # The owner, elsewhere, is not held up; after a success their own slate is clean.
    await _fail(counted, email, owner, 4)
    await counted.log_in_succeeded(await counted.before_log_in(email, owner))
    await _fail(counted, email, owner, 4)


async def test_failures_across_accounts_from_one_address_are_capped(counted: Throttles) -> None:
    sprayer = "203.0.113.9"
    for n in range(8):
        await _fail(counted, f"user{n}@example.com", sprayer)
    with pytest.raises(RateLimited):
        await counted.before_log_in("user8@example.com", sprayer)
    await counted.before_log_in("user8@example.com", "203.0.113.10")


async def test_a_right_password_gives_its_units_back(counted: Throttles) -> None:
    office = "203.0.113.20"
    for n in range(8):
        await counted.log_in_succeeded(await counted.before_log_in(f"u{n}@example.com", office))
    for n in range(8):  # all eight failures are still free
        await _fail(counted, f"someone{n}@example.com", office)
    with pytest.raises(RateLimited):
        await counted.before_log_in("another@example.com", office)


async def test_an_account_that_signed_in_from_an_address_passes_its_spray(
    counted: Throttles,
) -> None:
    office = "203.0.113.30"
    await counted.log_in_succeeded(await counted.before_log_in("regular@example.com", office))
    for n in range(8):
        await _fail(counted, f"sprayed{n}@example.com", office)
    with pytest.raises(RateLimited):
        await counted.before_log_in("newcomer@example.com", office)
    # The regular's failures neither meet nor fill the address's windows: its rising wait.
    await _fail(counted, "regular@example.com", office, 5)
    with pytest.raises(RateLimited) as refused:
        await counted.before_log_in("regular@example.com", office)
    assert refused.value.extensions["retryAfter"] == 1
