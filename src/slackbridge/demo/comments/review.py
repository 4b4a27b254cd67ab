"""The code-review page's state and rules, with no I/O.

A review shows one file; people comment on a line. A comment can be **shared** to a Slack
channel: a bridge conversation keyed ``comment-<env>-<n>`` whose card shows the code around the
line and a **View comment** button. Replies written on the page go to the thread under the
writer's Slack name and avatar when their email is a Slack user's (the bridge looks it up), else
as a persona with their name and avatar; replies in the thread come back under the comment.
Edits and deletions go both ways. Whoever clicks View comment is known by their email.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CODE",
    "FILE_NAME",
    "PEOPLE",
    "VIEW_ACTION",
    "Comment",
    "Person",
    "Reply",
    "Review",
    "card",
    "snippet",
]

VIEW_ACTION = "comments.view"
FILE_NAME = "billing/invoice.py"
CODE = """\
from decimal import Decimal


def total(lines: list[tuple[Decimal, int]]) -> Decimal:
    amount = Decimal(0)
    for price, quantity in lines:
        amount += price * quantity
    return amount


def with_tax(amount: Decimal, rate: Decimal) -> Decimal:
    taxed = amount * (1 + rate)
    return taxed.quantize(Decimal("0.01"))
""".splitlines()
_CONTEXT = 2


@dataclass(frozen=True)
class Person:
    """Someone with an account in the review tool (not a Slack user: matched by email)."""

    id: str
    name: str
    email: str
    avatar: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "avatar": self.avatar}


def _avatar(seed: str) -> str:
    return f"https://avatars.example.org/{seed}.png"


#: The review tool's people: alice and bob are Acme's Slack users too (same email), Pat is not.
PEOPLE = {
    p.id: p
    for p in (
        Person("p-alice", "Alice A.", "alice@acme.test", _avatar("alice")),
        Person("p-bob", "Bob B.", "bob@acme.test", _avatar("bob")),
        Person("p-pat", "Pat Quinn", "pat@contractor.example", _avatar("pat")),
    )
}


@dataclass
class Reply:
    id: str  # "r-3" (written on the page) or "s-<ts>" (written in Slack)
    source: Literal["page", "slack"]
    name: str
    text: str
    person: str | None = None  # the review tool's person, when known
    email: str | None = None
    avatar: str | None = None
    ts: str | None = None  # the Slack ts, once known
    edited: bool = False
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "text": "" if self.deleted else self.text,
            "person": self.person,
            "email": self.email,
            "avatar": self.avatar,
            "ts": self.ts,
            "edited": self.edited,
            "deleted": self.deleted,
        }


@dataclass
class Comment:
    number: int
    env: str
    line: int
    author: str  # a person id
    text: str
    shared: dict[str, Any] | None = None  # the bridge conversation, once shared
    replies: list[Reply] = field(default_factory=list)
    viewed_by: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 0

    @property
    def key(self) -> str:
        return f"comment-{self.env}-{self.number}"

    def reply_id(self) -> str:
        self._next += 1
        return f"r-{self._next}"

    def reply(self, reply_id: str) -> Reply | None:
        return next((r for r in self.replies if r.id == reply_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "line": self.line,
            "author": PEOPLE[self.author].to_json(),
            "text": self.text,
            "shared": self.shared,
            "replies": [r.to_json() for r in self.replies],
            "viewed_by": self.viewed_by,
        }


def snippet(line: int) -> str:
    """The lines around ``line`` (1-based), numbered, as the card shows them."""
    first, last = max(1, line - _CONTEXT), min(len(CODE), line + _CONTEXT)
    return "\n".join(
        f"{n:>3} {'>' if n == line else ' '} {CODE[n - 1]}" for n in range(first, last + 1)
    )


def card(comment: Comment, url: str) -> dict[str, Any]:
    """The shared comment's card: who said what on which line, the code, and View comment."""
    author = PEOPLE[comment.author]
    where = f"`{FILE_NAME}` line {comment.line}"
    return {
        "text": f"{author.name} commented on {FILE_NAME} line {comment.line}: {comment.text}",
        "blocks": [
            {
                "type": "section",
                "block_id": "comment",
                "text": {"type": "mrkdwn", "text": f"*{author.name}* on {where}:\n{comment.text}"},
            },
            {
                "type": "section",
                "block_id": "code",
                "text": {"type": "mrkdwn", "text": f"```{snippet(comment.line)}```"},
            },
            {
                "type": "actions",
                "block_id": "view",
                "elements": [
                    {
                        "type": "button",
                        "action_id": VIEW_ACTION,
                        "text": {"type": "plain_text", "text": "View comment"},
                        "url": url,
                        "value": comment.key,
                    }
                ],
            },
        ],
    }


@dataclass
class Review:
    """One environment's comments (dev and prod each have one)."""

    env: str
    comments: dict[int, Comment] = field(default_factory=dict)

    def comment(self, line: int, author: str, text: str) -> Comment:
        if not 1 <= line <= len(CODE):
            raise ValueError(f"line: 1 to {len(CODE)}")
        if author not in PEOPLE:
            raise ValueError(f"author: one of {', '.join(PEOPLE)}")
        made = Comment(len(self.comments) + 1, self.env, line, author, text)
        self.comments[made.number] = made
        return made

    def by_key(self, key: Any) -> Comment | None:
        prefix = f"comment-{self.env}-"
        if not isinstance(key, str) or not key.startswith(prefix):
            return None
        try:
            return self.comments.get(int(key[len(prefix) :]))
        except ValueError:
            return None

    def reply_on_page(self, comment: Comment, person: Person, text: str) -> Reply:
        reply = Reply(
            comment.reply_id(), "page", person.name, text, person.id, person.email, person.avatar
        )
        comment.replies.append(reply)
        return reply

    def viewed(self, comment: Comment, user: Mapping[str, Any]) -> dict[str, Any]:
        """Someone clicked View comment: who, by their email (a person here, if it matches)."""
        email = user.get("email") if isinstance(user.get("email"), str) else None
        person = next((p.id for p in PEOPLE.values() if email and p.email == email), None)
        seen = {"slack_user": user.get("id"), "email": email, "person": person}
        comment.viewed_by.append(seen)
        return seen

    def apply(self, kind: str, data: Mapping[str, Any]) -> tuple[str, Comment | None]:
        """A ``conversation.*`` webhook: what it did, and to which comment."""
        conversation = data.get("conversation") or {}
        comment = self.by_key(
            conversation.get("key") if isinstance(conversation, Mapping) else None
        )
        if comment is None:
            return "not_ours", None
        message = data.get("message") or {}
        if not isinstance(message, Mapping):
            return "ignored", comment
        ts = message.get("ts")
        own = message.get("product_message_id")
        if kind == "conversation.message.created":
            if own:
                mine = comment.reply(str(own))
                if mine is not None:
                    mine.ts = str(ts)
                return "own", comment
            author = message.get("author") or {}
            if not isinstance(author, Mapping) or author.get("bot_id"):
                return "bot", comment
            email = author.get("email") if isinstance(author.get("email"), str) else None
            person = author.get("product_user")
            if not isinstance(person, str):
                person = next((p.id for p in PEOPLE.values() if email and p.email == email), None)
            comment.replies.append(
                Reply(
                    f"s-{ts}",
                    "slack",
                    str(author.get("real_name") or author.get("name") or "Someone"),
                    str(message.get("text") or ""),
                    person,
                    email,
                    None,
                    str(ts),
                )
            )
            return "reply", comment
        if kind in ("conversation.message.edited", "conversation.message.deleted"):
            reply = next((r for r in comment.replies if ts and r.ts == ts), None)
            if reply is None and own:
                reply = comment.reply(str(own))
            if reply is None:
                return "unknown_message", comment
            if kind.endswith("edited"):
                reply.text, reply.edited = str(message.get("text") or ""), True
                return "edited", comment
            reply.deleted = True
            return "deleted", comment
        return "ignored", comment
