"""The conversation bridge (docs/bridge.md): a product conversation lives in Slack as a thread
under a card in a channel ("still") or as a channel of its own ("noisy").

Pure core: :mod:`naming` (noisy channel names from templates), :mod:`loop_guard` (which Slack
messages are the gateway's own posts), :mod:`states` (what a settled outbox operation means for
a conversation or a message), :mod:`operations` (the outbox operations each action makes).
I/O at the edges: :mod:`settle` (follows the outbox into the bridge's tables, and its worker),
:mod:`identity` (who a post is by: personas, linked Slack users, ``users.lookupByEmail``).
The API routes live in ``api/conversations.py``; the store's tables in
``store/models_bridge.py``.
"""
