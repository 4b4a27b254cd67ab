"""Code comments: a small code-review page whose comments are shared to Slack and discussed
there, on the conversation bridge; one gateway serves two environments, each its own Slack app.

:mod:`~slackbridge.demo.comments.review` is the pure core (the file, people, comments, replies,
the shared card, what each bridge webhook changes), :mod:`~slackbridge.demo.comments.app` the web
app (one environment per Slack app, webhooks routed to the environment whose app they are
about) and :mod:`~slackbridge.demo.comments.example` registers it as the demo's ``comments``
example.
"""
