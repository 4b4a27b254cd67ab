"""The Calls example's records: single-use expiring keys, browser-bound sessions, grants per
person and workspace, accounts by email, and calls whose post may be reported early."""

from __future__ import annotations

from slackbridge.demo.calls.records import (
    KEY_TTL_SECONDS,
    SESSION_TTL_SECONDS,
    Account,
    CallBook,
    Directory,
    Grants,
    Keys,
    Setup,
)

SETUP = Setup("T0ACME0001", "G0ACME0STF", "private", "U0ACME0002")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_opens_once_and_remembers_where_and_who() -> None:
    keys = Keys(Clock())
    key = keys.issue(SETUP)
    verdict, session = keys.open(key)
    assert verdict == "ok" and session is not None and session.setup == SETUP
    again, same = keys.open(key)
    assert again == "used" and same is session  # so its own browser can be sent back
    assert keys.open("not-a-key") == ("unknown", None)
    assert keys.outstanding == 0


def test_keys_are_random_and_expire() -> None:
    clock = Clock()
    keys = Keys(clock)
    first, second = keys.issue(SETUP), keys.issue(SETUP)
    assert first != second and len(first) >= 40
    clock.now += KEY_TTL_SECONDS
    assert keys.open(first) == ("expired", None)
    keys.issue(SETUP)  # issuing purges what expired
    assert keys.open(second) == ("unknown", None)


def test_a_session_needs_its_browser_cookie_and_expires() -> None:
    clock = Clock()
    keys = Keys(clock)
    _, session = keys.open(keys.issue(SETUP))
    assert session is not None
    assert keys.session(session.id, session.secret) is session
    assert keys.session(session.id, None) is None
    assert keys.session(session.id, session.secret[:-1] + "x") is None
    clock.now += SESSION_TTL_SECONDS
    assert keys.session(session.id, session.secret) is None


def test_grants_are_per_person_and_workspace() -> None:
    grants = Grants()
    grants.add("T0ACME0001", "U1")
    grants.add("T0GLBX0001", "U1")
    assert ("T0ACME0001", "U1") in grants and ("T0GLBX0001", "U1") in grants
    grants.forget_team("T0ACME0001")
    assert ("T0ACME0001", "U1") not in grants and ("T0GLBX0001", "U1") in grants
    grants.discard("T0GLBX0001", "U1")
    assert grants.listing() == []


def test_accounts_are_found_by_email_whatever_the_case() -> None:
    ann = Account("a1", "Ann", "Ann@Example.test")
    directory = Directory([ann])
    assert directory.by_email("ann@example.TEST ") is ann
    assert directory.by_email("bob@example.test") is None
    assert directory.by_email(None) is None


def test_a_delivery_reported_before_the_call_knew_its_operation_is_kept() -> None:
    book = CallBook()
    call = book.start(SETUP, None, [], "http://calls.test")
    assert call.link == "http://calls.test/calls/1"
    assert book.settle("msg_early", True, "1.000200") is False
    book.attach(call, "msg_early")
    assert (call.announced, call.announced_ts) == ("sent", "1.000200")
    other = book.start(SETUP, None, [], "http://calls.test")
    book.attach(other, "msg_later")
    assert book.settle("msg_later", False, "channel_not_found") is True
    assert (other.announced, other.error) == ("failed", "channel_not_found")
