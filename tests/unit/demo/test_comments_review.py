"""Code comments' pure core: comments on lines, the snippet and the card, replies both ways,
edits and deletions from Slack, and who clicked View comment."""

from __future__ import annotations

import pytest

from slackbridge.demo.comments.review import CODE, PEOPLE, VIEW_ACTION, Review, card, snippet


def test_comments_are_on_lines_of_the_file_by_known_people() -> None:
    review = Review("prod")
    comment = review.comment(12, "p-pat", "Round first?")
    assert comment.key == "comment-prod-1" and review.by_key("comment-prod-1") is comment
    assert review.by_key("comment-dev-1") is None and review.by_key("comment-prod-x") is None
    with pytest.raises(ValueError, match="line"):
        review.comment(len(CODE) + 1, "p-pat", "x")
    with pytest.raises(ValueError, match="author"):
        review.comment(1, "p-nobody", "x")


def test_the_snippet_marks_the_line_and_stays_inside_the_file() -> None:
    assert snippet(12).splitlines() == [
        " 10   ",
        " 11   def with_tax(amount: Decimal, rate: Decimal) -> Decimal:",
        " 12 >     taxed = amount * (1 + rate)",
        ' 13       return taxed.quantize(Decimal("0.01"))',
    ]
    assert snippet(1).splitlines()[0].startswith("  1 > from decimal")


def test_the_card_has_the_snippet_and_a_view_comment_button_to_the_page() -> None:
    comment = Review("dev").comment(12, "p-pat", "Round first?")
    body = card(comment, "https://review.test/dev/comments/1")
    button = body["blocks"][-1]["elements"][0]
    assert button["action_id"] == VIEW_ACTION and button["value"] == "comment-dev-1"
    assert button["url"] == "https://review.test/dev/comments/1"
    assert "taxed = amount" in body["blocks"][1]["text"]["text"]
    assert body["text"].startswith("Pat Quinn commented on billing/invoice.py line 12")


def test_replies_edits_and_deletions_from_slack() -> None:
    review = Review("prod")
    comment = review.comment(3, "p-alice", "Name the type?")
    mine = review.reply_on_page(comment, PEOPLE["p-alice"], "Agreed")
    conversation = {"key": comment.key}
    echo = {"ts": "1.1", "product_message_id": mine.id, "author": {}}
    assert (
        review.apply(
            "conversation.message.created", {"conversation": conversation, "message": echo}
        )[0]
        == "own"
    )
    assert mine.ts == "1.1"
    bob = {
        "ts": "1.2",
        "text": "Why?",
        "author": {"real_name": "Bob Baker", "email": "bob@acme.test"},
    }
    assert (
        review.apply(
            "conversation.message.created", {"conversation": conversation, "message": bob}
        )[0]
        == "reply"
    )
    slack_reply = comment.replies[-1]
    assert (slack_reply.name, slack_reply.person, slack_reply.source) == (
        "Bob Baker",
        "p-bob",
        "slack",
    )
    edit = {"conversation": conversation, "message": {**bob, "text": "Why not?"}}
    assert review.apply("conversation.message.edited", edit)[0] == "edited"
    assert slack_reply.text == "Why not?" and slack_reply.edited
    gone = {"conversation": conversation, "message": {"ts": "1.1", "product_message_id": mine.id}}
    assert review.apply("conversation.message.deleted", gone)[0] == "deleted"
    assert mine.deleted and mine.to_json()["text"] == ""
    assert (
        review.apply(
            "conversation.message.deleted", {"conversation": conversation, "message": {"ts": "9"}}
        )[0]
        == "unknown_message"
    )
    bot = {"conversation": conversation, "message": {"ts": "1.3", "author": {"bot_id": "B1"}}}
    assert review.apply("conversation.message.created", bot)[0] == "bot"


def test_who_clicked_view_comment_is_known_by_email() -> None:
    review = Review("prod")
    comment = review.comment(3, "p-alice", "x")
    assert review.viewed(comment, {"id": "U0ACME0002", "email": "bob@acme.test"}) == {
        "slack_user": "U0ACME0002",
        "email": "bob@acme.test",
        "person": "p-bob",
    }
    assert review.viewed(comment, {"id": "U0X"})["person"] is None
