"""The live chat's state and rules, with no I/O.

An **account** is made when someone clicks "Add to Slack" on the front page (no sign-up before
it); the install ties it to the workspace (``workspace.installed`` carries the account id as its
``ref``). Its console chooses where chats go: ``still`` (a thread under a card in one channel)
or ``noisy`` (a channel per chat, ``#chat-0042``). Each visitor's **chat** is one bridge
conversation keyed ``chat-0042``; the card carries **Claim** and **Close** buttons. Every change
a visitor should see is an :class:`Event` with a number, so a page that reconnects asks for
what came after the last one it saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CLAIM_ACTION",
    "CLOSE_ACTION",
    "CLOSE_CALLBACK",
    "NOTE_BLOCK",
    "Account",
    "Chat",
    "ChatFile",
    "ChatMessage",
    "Event",
    "Livechat",
    "card",
    "close_modal",
    "note_of",
]

Mode = Literal["still", "noisy"]

CLAIM_ACTION = "livechat.claim"
CLOSE_ACTION = "livechat.close"
CLOSE_CALLBACK = "livechat.close"
NOTE_BLOCK = "note"
_NOTE_ACTION = "note"
_MAX_PREVIEW = 300


@dataclass
class Account:
    """One customer of the live chat: the workspace its team answers from, and where."""

    id: str
    team_id: str | None = None
    team_name: str | None = None
    mode: Mode = "still"
    channel_id: str | None = None  # still: the channel the threads live in
    operators: list[str] = field(default_factory=list)  # Slack user ids signed in to the console

    @property
    def ready(self) -> bool:
        return self.team_id is not None and (self.mode == "noisy" or self.channel_id is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": self.team_id,
            "team_name": self.team_name,
            "mode": self.mode,
            "channel_id": self.channel_id,
            "operators": self.operators,
            "ready": self.ready,
        }


@dataclass
class ChatFile:
    id: str
    name: str
    mimetype: str | None
    size: int | None
    download_url: str | None = None  # the gateway's URL (agents' files), never shown

    def to_json(self, chat: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "mimetype": self.mimetype,
            "size": self.size,
            "url": f"/api/chats/{chat}/files/{self.id}",
        }


@dataclass
class ChatMessage:
    id: str  # the product's id ("v-3") or the Slack ts for agents' messages
    who: Literal["visitor", "agent", "system"]
    name: str
    text: str
    files: list[ChatFile] = field(default_factory=list)
    deleted: bool = False
    edited: bool = False


@dataclass(frozen=True)
class Event:
    """Something a visitor's page shows: ``message`` (new or changed), ``claimed``, ``closed``."""

    number: int
    kind: Literal["message", "claimed", "closed"]
    data: dict[str, Any]


@dataclass
class Chat:
    number: int
    account_id: str
    visitor: str
    mode: Mode
    state: Literal["open", "closed"] = "open"
    conversation: dict[str, Any] = field(default_factory=dict)  # the bridge's last answer
    card_posted: bool = False
    first_text: str = ""  # what the card quotes
    assignee: str | None = None  # the agent's name
    assignee_id: str | None = None
    note: str | None = None
    closed_by: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    own_files: dict[str, bytes] = field(default_factory=dict)  # what the visitor sent
    _next_visitor: int = 0

    @property
    def key(self) -> str:
        return f"chat-{self.number:04d}"

    def visitor_message_id(self) -> str:
        self._next_visitor += 1
        return f"v-{self._next_visitor}"

    def event(self, kind: Literal["message", "claimed", "closed"], data: dict[str, Any]) -> Event:
        made = Event(len(self.events) + 1, kind, data)
        self.events.append(made)
        return made

    def message_json(self, message: ChatMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "who": message.who,
            "name": message.name,
            "text": "" if message.deleted else message.text,
            "files": [] if message.deleted else [f.to_json(self.number) for f in message.files],
            "deleted": message.deleted,
            "edited": message.edited,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "account_id": self.account_id,
            "visitor": self.visitor,
            "mode": self.mode,
            "state": self.state,
            "assignee": self.assignee,
            "note": self.note,
            "closed_by": self.closed_by,
            "channel": self.conversation.get("channel"),
            "thread_ts": self.conversation.get("thread_ts"),
            "conversation_state": self.conversation.get("state"),
            "messages": [self.message_json(m) for m in self.messages],
        }


def card(chat: Chat, first_text: str) -> dict[str, Any]:
    """The chat's card in Slack: who, what they asked, who has it, and the two buttons."""
    preview = first_text if len(first_text) <= _MAX_PREVIEW else first_text[:_MAX_PREVIEW] + "…"
    if chat.state == "closed":
        status = f"Closed by {chat.closed_by or 'an agent'}" + (
            f": {chat.note}" if chat.note else ""
        )
    elif chat.assignee:
        status = f"Claimed by {chat.assignee}"
    else:
        status = "Waiting for an agent"
    text = f"Chat {chat.number:04d} from {chat.visitor}: {preview}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "chat",
            "text": {
                "type": "mrkdwn",
                "text": f"*Chat {chat.number:04d}* from *{chat.visitor}*\n>{preview}",
            },
        },
        {"type": "context", "block_id": "status", "elements": [{"type": "mrkdwn", "text": status}]},
    ]
    if chat.state == "open":
        buttons: list[dict[str, Any]] = []
        if chat.assignee is None:
            buttons.append(
                {
                    "type": "button",
                    "action_id": CLAIM_ACTION,
                    "text": {"type": "plain_text", "text": "Claim"},
                    "style": "primary",
                    "value": chat.key,
                }
            )
        buttons.append(
            {
                "type": "button",
                "action_id": CLOSE_ACTION,
                "text": {"type": "plain_text", "text": "Close"},
                "style": "danger",
                "value": chat.key,
            }
        )
        blocks.append({"type": "actions", "block_id": "actions", "elements": buttons})
    return {"text": text, "blocks": blocks}


def close_modal(chat: Chat) -> dict[str, Any]:
    """The modal "Close" opens: a resolution note, then the chat closes on both sides."""
    return {
        "type": "modal",
        "callback_id": CLOSE_CALLBACK,
        "private_metadata": chat.key,
        "title": {"type": "plain_text", "text": f"Close chat {chat.number:04d}"},
        "submit": {"type": "plain_text", "text": "Close chat"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "Resolution note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": _NOTE_ACTION,
                    "multiline": True,
                },
            }
        ],
    }


def note_of(values: Mapping[str, Any]) -> str:
    """The resolution note in a submitted modal's ``values``."""
    block = values.get(NOTE_BLOCK) or {}
    field_ = block.get(_NOTE_ACTION) if isinstance(block, Mapping) else None
    value = field_.get("value") if isinstance(field_, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def _files(raw: Any) -> list[ChatFile]:
    out = []
    for f in raw if isinstance(raw, list) else []:
        if isinstance(f, Mapping) and isinstance(f.get("id"), str):
            size = f.get("size")
            out.append(
                ChatFile(
                    id=str(f["id"]),
                    name=str(f.get("name") or f["id"]),
                    mimetype=f.get("mimetype") if isinstance(f.get("mimetype"), str) else None,
                    size=size if isinstance(size, int) else None,
                    download_url=f.get("download_url")
                    if isinstance(f.get("download_url"), str)
                    else None,
                )
            )
    return out


@dataclass
class Livechat:
    """Every account and chat."""

    accounts: dict[str, Account] = field(default_factory=dict)
    chats: dict[int, Chat] = field(default_factory=dict)

    # --- accounts -----------------------------------------------------------------------------

    def new_account(self) -> Account:
        account = Account(id=f"acct-{len(self.accounts) + 1}")
        self.accounts[account.id] = account
        return account

    def installed(
        self, ref: str | None, team_id: str | None, team_name: str | None
    ) -> Account | None:
        """``workspace.installed``: the account whose Add to Slack it was now has a workspace."""
        account = self.accounts.get(ref or "")
        if account is None or not team_id:
            return None
        account.team_id = team_id
        account.team_name = team_name
        return account

    def accounts_of(self, team_id: str | None) -> list[Account]:
        return [a for a in self.accounts.values() if team_id and a.team_id == team_id]

    # --- chats ----------------------------------------------------------------------------------

    def open_chat(self, account: Account, visitor: str) -> Chat:
        chat = Chat(len(self.chats) + 1, account.id, visitor.strip() or "Visitor", account.mode)
        self.chats[chat.number] = chat
        return chat

    def by_key(self, key: Any) -> Chat | None:
        if not isinstance(key, str) or not key.startswith("chat-"):
            return None
        try:
            return self.chats.get(int(key[5:]))
        except ValueError:
            return None

    def visitor_said(self, chat: Chat, text: str, files: list[ChatFile]) -> ChatMessage:
        message = ChatMessage(chat.visitor_message_id(), "visitor", chat.visitor, text, files)
        chat.messages.append(message)
        chat.event("message", chat.message_json(message))
        return message

    def claim(self, chat: Chat, user_id: str | None, name: str) -> bool:
        """An agent claims the chat (the first click wins)."""
        if chat.state != "open" or chat.assignee is not None:
            return False
        chat.assignee, chat.assignee_id = name, user_id
        chat.event("claimed", {"assignee": name})
        return True

    def close(self, chat: Chat, by: str, note: str | None) -> bool:
        if chat.state == "closed":
            return False
        chat.state, chat.closed_by, chat.note = "closed", by, note or None
        chat.event("closed", {"closed_by": by, "note": chat.note})
        return True

    # --- the bridge's webhooks ------------------------------------------------------------------

    def apply(self, kind: str, data: Mapping[str, Any]) -> tuple[str, Chat | None]:
        """A ``conversation.*`` webhook: what it did, and to which chat."""
        conversation = data.get("conversation") or {}
        chat = self.by_key(conversation.get("key") if isinstance(conversation, Mapping) else None)
        if chat is None:
            return "not_ours", None
        message = data.get("message") or {}
        if not isinstance(message, Mapping):
            message = {}
        if kind == "conversation.message.created":
            if message.get("product_message_id"):
                return "own", chat  # posted by us (the loop guard keeps these out anyway)
            author = message.get("author") or {}
            if not isinstance(author, Mapping) or author.get("bot_id"):
                return "bot", chat
            name = author.get("real_name") or author.get("name") or "Agent"
            said = ChatMessage(
                str(message.get("ts")),
                "agent",
                str(name),
                str(message.get("text") or ""),
                _files(message.get("files")),
            )
            chat.messages.append(said)
            chat.event("message", chat.message_json(said))
            return "agent_message", chat
        if kind in ("conversation.message.edited", "conversation.message.deleted"):
            target = next((m for m in chat.messages if m.id == message.get("ts")), None)
            if target is None or target.who != "agent":
                return "unknown_message", chat
            if kind.endswith("edited"):
                target.text, target.edited = str(message.get("text") or ""), True
                if "files" in message:
                    target.files = _files(message.get("files"))
            else:
                target.deleted = True
            chat.event("message", chat.message_json(target))
            return kind.rsplit(".", 1)[1], chat
        if kind == "conversation.closed":
            by = str(data.get("closed_by") or "slack")
            self.close(chat, "an agent" if by == "slack" else by, chat.note)
            return "closed", chat
        if kind == "conversation.reopened":
            if chat.state == "closed":
                chat.state = "open"
                chat.event(
                    "message",
                    {
                        "id": f"reopen-{len(chat.events)}",
                        "who": "system",
                        "name": "",
                        "text": "The chat is open again.",
                        "files": [],
                        "deleted": False,
                        "edited": False,
                    },
                )
            return "reopened", chat
        return "ignored", chat

    def file(self, chat: Chat, file_id: str) -> ChatFile | None:
        for message in chat.messages:
            for f in message.files:
                if f.id == file_id and not message.deleted:
                    return f
        return None
