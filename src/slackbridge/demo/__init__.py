"""``slackbridge demo``: the emulator, the gateway and an example product together.

:mod:`slackbridge.demo.examples` lists the examples (the Helpdesk, :mod:`slackbridge.demo.
helpdesk`, first); :mod:`slackbridge.demo.runner` runs the demo (``run_demo``).
"""
