"""Live chat: website visitors talk to a team that answers from Slack, on the conversation bridge.

:mod:`~slackbridge.demo.livechat.chats` is the pure core (accounts, chats, the card and the
modal, what each bridge webhook changes), :mod:`~slackbridge.demo.livechat.signin` the console's
Sign in with Slack (OpenID Connect), :mod:`~slackbridge.demo.livechat.pages` the HTML,
:mod:`~slackbridge.demo.livechat.app` the web app (webhooks in, bridge API out) with its parts:
:mod:`~slackbridge.demo.livechat.console` (the operators' console),
:mod:`~slackbridge.demo.livechat.visitor_input` (what a visitor may send),
:mod:`~slackbridge.demo.livechat.updates` (live updates to visitors over server-sent events) and
:mod:`~slackbridge.demo.livechat.card_actions` (the card's buttons and the close modal).
:mod:`~slackbridge.demo.livechat.example` registers it as the demo's ``livechat`` example.
"""
