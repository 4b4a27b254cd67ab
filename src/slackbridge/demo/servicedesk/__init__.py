"""The service desk: people write to the bot in a DM, a private or a public channel, and agents
answer from the desk.

:mod:`~slackbridge.demo.servicedesk.sessions` is its pure core (sessions keyed
``team:user:channel``, who is ignored, idle closing), :mod:`~slackbridge.demo.servicedesk.app` the
web app (webhooks in, product API out, the desk page) and
:mod:`~slackbridge.demo.servicedesk.example` registers it as the demo's ``servicedesk`` example.
"""
