"""The guide at the top of docs/api.md (the reference below it is generated from OpenAPI)."""

from __future__ import annotations

__all__ = ["GUIDE"]

GUIDE = r"""
Your product talks to Slack through this API: it posts, threads, edits and deletes messages,
uploads files, opens modals, answers slash commands and looks people up, in every workspace the
app is installed in. slackbridge takes each write durably, answers at once, and delivers it to
Slack in order and within Slack's rate limits.

## Guide

### Authentication

Every request carries an API key as a Bearer token:

```
Authorization: Bearer sbk_…
```

Create keys with `slackbridge apikey create NAME` (the key is printed once; only its SHA-256 is
stored; `slackbridge apikey list` and `slackbridge apikey revoke PREFIX` manage them), or list
them in `SLACKBRIDGE_API_KEYS` (comma separated). A missing key answers 401 `missing_api_key`, an
unknown or revoked one 401 `invalid_api_key`.

### Key scopes

Each stored key has **permissions** and may be limited to **workspaces**:

```
slackbridge apikey create acme-support --scope read,write --workspace T0ACME0001 --ref account-7
```

- `read`: list and get workspaces, look up users, get operations (`GET /messages/{id}`) and
  permalinks, the declared commands (`GET /commands`);
- `write`: everything that sends to Slack — messages, edits, deletions, files, views, responses,
  the pass-through — and install links;
- `admin`: all of the above, removing workspaces (`DELETE /workspaces/{team_id}`), and seeing
  and changing every key's operations, declaring commands (`PUT /commands`), and the webhook
  endpoints and their signing secrets (`/webhooks`).

How the scope applies:

- `--scope` defaults to `read,write`. A route the key lacks the permission for answers 403
  `permission_denied`.
- `--workspace T…` and `--ref REF` (both repeatable) limit the key to those workspaces: one whose
  team id is listed, or one where an installation carries a listed install ref (the
  `product_ref` of [`/workspaces/install-url`](#make-an-add-to-slack-link)). Without either, the
  key may touch every workspace. A workspace outside the key's scope answers 403
  `workspace_forbidden` — also when slackbridge has no such workspace, so a limited key can't
  probe which ones exist — and `GET /workspaces` lists only the key's workspaces. A limited key
  makes install links only with one of its refs, so what it installs lands in its scope.
- **Operations belong to the key that queued them.** `GET /messages/{id}`, and edits, deletions,
  replies (`reply_to`) and permalinks by `message_id`, find only the key's own operations (an
  `admin` key: every operation in its workspaces); any other id answers 404 `message_not_found`,
  exactly like an unknown one, since saying "it exists, but not for you" would only help
  guessing ids. Operations queued before slackbridge recorded keys, or by the gateway itself,
  belong to every key of their workspace. Editing or deleting by `workspace`, `channel` and `ts`
  needs only the workspace in scope (like the pass-through, it reaches any message the app may
  change).
- Keys in `SLACKBRIDGE_API_KEYS` may do everything everywhere (`read,write,admin`, every
  workspace); so may keys created before scopes existed, so upgrading changes nothing for them,
  workspace removal included. New keys need `--scope admin` to remove workspaces.
- `slackbridge apikey list` shows each key's permissions and workspaces.

### A first message

```
curl -X POST http://127.0.0.1:8000/api/v1/messages \
  -H "Authorization: Bearer $SLACKBRIDGE_API_KEY" -H "Content-Type: application/json" \
  -d '{"workspace": "T0ACME0001", "channel": "C0ACME0SUP", "text": "Hello from the product"}'
```

answers `202 Accepted` with the operation (`"id": "msg_…", "status": "queued"`). From Python:

```python
import asyncio
import os

from slackbridge.client import Slackbridge


async def main() -> None:
    api_key = os.environ["SLACKBRIDGE_API_KEY"]
    async with Slackbridge("http://127.0.0.1:8000", api_key) as sb:
        sent = await sb.messages.post("T0ACME0001", "C0ACME0SUP", "Hello from the product")
        reply = await sb.messages.post("T0ACME0001", "C0ACME0SUP", "In the thread",
                                       reply_to=sent.id)
        done = await sb.messages.wait(reply.id)    # status "sent", done.ts is Slack's ts
        print(done.status, done.ts)


asyncio.run(main())
```

The client raises `SlackbridgeError` subclasses (`NotFoundError`, `ConflictError`,
`UnavailableError`, …) whose `code` is the stable error code below, and
`slackbridge.client.parse_webhook(secret, headers, body)` verifies and parses webhooks.

### What is queued and what is immediate

Writes are **queued** in the outbox and answered `202` with an operation id (`msg_…`):
messages (`/messages`, `/messages/update`, `/messages/delete`, `/messages/ephemeral`), files
(`/files`), `views.update` and `views.publish` (`/views/update`, `/views/publish`) and
response_url answers (`/responses`). The row is committed before the answer, so an accepted
operation survives a crash of the gateway.

Reads and calls that cannot wait are **immediate** (they still go through the same rate limiter):
`/views/open` and `/views/push` (a `trigger_id` expires 3 seconds after the click),
`/messages/permalink`, users, workspaces and the pass-through `/slack/{team_id}/{method}`, which
calls any Web API method with the workspace's token and returns Slack's JSON as it came (an
`ok: false` answer included, at HTTP 200).

The pass-through refuses (403 `method_forbidden`) the methods that would break the gateway's own
state — `auth.revoke`, `apps.uninstall`, `oauth.*`, `openid.*`, `apps.connections.*` — in any
letter case, and Enterprise Grid's organization-wide `admin.*` methods unless
`SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS` is true. Slack's method names are case-sensitive, so
a name not spelled as Slack spells them (lower camel case segments: `chat.postMessage`, not
`Chat.postMessage`) answers 422 `invalid_request` instead of reaching Slack.

### Message lifecycle

`GET /messages/{id}` tells where an operation stands:

- `queued`: waiting for its turn (its lane, the rate limit, or a retry after a transient error;
  `error` then says what the last attempt met);
- `sending`: being delivered now;
- `sent`: Slack took it; `ts` is the message's Slack timestamp (`result` has `file_id`,
  `view_id` or `message_ts` for files, views and ephemerals);
- `failed`: Slack refused it for good; `error.code` says why (Slack's own code, such as
  `channel_not_found`, `is_archived`, `msg_too_long`, `not_in_channel`, or one of
  slackbridge's: `workspace_disconnected`, `workspace_uninstalled`, `user_token_missing`,
  `original_failed`).

The same news arrives as webhooks, one per operation: `message.delivered` and `message.failed`.

```json
{"type": "message.delivered", "timestamp": "2026-01-05T10:00:01.250Z",
 "data": {"workspace": {"team_id": "T0ACME0001", "enterprise_id": null, "app_id": "A0…"},
          "channel": {"id": "C0ACME0SUP", "kind": "public"},
          "message": {"id": "msg_…", "operation": "chat.postMessage", "channel": "C0ACME0SUP",
                      "ts": "1767607201.000200", "thread_ts": null, "attempts": 1}}}
```

`message.failed` has the same `data` plus `"error": {"code": "…", "message": "…"}`. The
`webhook-id` header of these webhooks is stable per operation, so a receiver can dedupe.

### Order and threads

Operations are delivered first-in first-out per **lane**: a channel's top level, one thread, one
modal, one user's Home tab, one response_url. Lanes go side by side, so a busy or rate-limited
channel never holds back another. An operation that names an earlier one by id joins that one's
lane and runs after it: `reply_to` (reply in the thread of a message posted through the API),
`message_id` in `/messages/update`, `/messages/delete` and `/messages/permalink`. That lets the
product post a message and answer in its thread, or edit it, before the message has reached
Slack and long before the product has seen its `ts`. Messages of one thread should be addressed
one way (always `reply_to`, or always `thread_ts`) to keep them in one lane.

Posting needs the bot in the channel: for a public channel slackbridge joins it once
(`conversations.join`) and posts again; a private channel must invite the app.

Posting as a person (`as_user`) uses the user token that person granted when installing (the
app's user scopes); `persona` posts as the bot under another name and icon (needs
`chat:write.customize`).

### Conversations

The conversation bridge keeps a conversation of your product (under your own key) and a thread
or a channel in Slack in step: `PUT /conversations/{key}` creates it once however often it is
asked, `POST /conversations/{key}/messages` posts under your own message ids, as personas or as
people's Slack names, and edits, deletions, reactions, close and reopen follow. See
[the conversation bridge](bridge.md) for the guide.

### Idempotency

Send an `Idempotency-Key` header (any unique string up to 255 printable characters, a UUID say)
with a queued write, and a retry of the same request returns the first answer (`replayed: true`)
instead of sending twice. The same key with a different body answers 409
`idempotency_conflict`. Keys are scoped per API key and live as long as the operation's row:
a sent or failed operation is kept for `SLACKBRIDGE_RETENTION_DAYS` (7) after it was created,
then deleted (`GET /messages/{id}` then answers 404); queued ones are never deleted. An upload's
bytes are dropped as soon as it is sent or failed.

Inside the gateway, deliveries are at least once with exactly-once effects: each post carries a
marker in its message metadata (`event_payload.slackbridge_message_id`, next to any metadata of
the product's own), and an attempt that follows an uncertain one (a crash between Slack's answer
and the commit, a timeout, a 5xx) first looks for its marker in the channel's or thread's recent
history and does not post again if it is there. Edits and deletions are idempotent by nature;
file uploads record their progress and check `files.info` before completing again. Ephemeral
messages and response_url answers can't be looked up: after an uncertain attempt they may
arrive twice.

### Errors

Every error has the same shape and a stable `code`:

```json
{"error": {"code": "workspace_disconnected",
           "message": "Slack rejected the workspace's token; reinstall the app"}}
```

Validation errors (422 `invalid_request`) add `details`, one `{"field", "message"}` per problem;
a body that is not JSON, or not a JSON object, is one of them (`"field": "body"`), and so is a
string or a key holding a NUL character (`\u0000`; the message says where). Request bodies
are limited to 1 MiB (`POST /files`: about 13.4 MB, a 10 MiB file in base64); a larger one is
refused with 413 `payload_too_large` before it is read (a conversation's messages, which may
carry files, take as much as `POST /files`). A path under `/api/v1` that is no route
answers 404 `not_found`, and a route called with another HTTP method 405 `method_not_allowed`.
Slack's refusals of immediate calls answer 422 `slack_error` with Slack's code in
`details[0].slack_error`. 503 means the call cannot be made now: the workspace is disconnected
(Slack rejected its token; slackbridge marks it and sends `workspace.disconnected`),
uninstalled or removed, or Slack is unreachable (`slack_unavailable`).

### Rate limiting

slackbridge keeps to Slack's published limits so that Slack answers 429 as rarely as possible,
and the product never sees one for a queued write:

- each Web API method has a token bucket per workspace by tier (Tier 1: 1/min, Tier 2: 20/min,
  Tier 3: 50/min, Tier 4: 100/min; a fifth of the minute may go at once);
- `chat.postMessage` has a bucket per channel (1 message per second after a burst of 2, one less
  than Slack tolerates, to absorb network jitter) and a workspace-wide one (600/min);
- every allowance runs at 99% of Slack's, so clock differences do not turn into 429s;
- a 429 that happens anyway holds back only its lane (the channel for posts, the method
  otherwise) for the `Retry-After` Slack gave, and the operation is tried again without counting
  as a failed attempt;
- transient failures (5xx, timeouts, connection errors) are retried with exponential backoff
  (from 1 s, capped at 2 min, with jitter) up to 10 attempts, then the operation fails.

Immediate calls wait for the limiter too (up to 5 s; 10 s for the pass-through; 1 s for
`views.open`) and answer 429 `rate_limited` with `Retry-After` beyond that.

Settings: `SLACKBRIDGE_OUTBOX_LEASE_SECONDS` (30; a crashed sender's operations are picked up
again after this), `SLACKBRIDGE_OUTBOX_CONCURRENCY` (64 lanes at once),
`SLACKBRIDGE_OUTBOX_RETRY_SCALE` (1.0; multiplies the retry backoff).
"""
