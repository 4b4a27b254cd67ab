"""The task bot: a team task tracker built on slackbridge's declared commands.

:mod:`~slackbridge.demo.tasks.board` is its pure core (accounts, tasks, workspaces, answers),
:mod:`~slackbridge.demo.tasks.app` the web app (webhooks in, product API out, a page), and
:mod:`~slackbridge.demo.tasks.example` registers it as the demo's ``tasks`` example.
"""
