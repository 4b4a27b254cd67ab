"""``slackbridge demo``: the emulator, the gateway and the Helpdesk example product together.

:mod:`slackbridge.demo.helpdesk` is the example product (``create_helpdesk_app``);
:mod:`slackbridge.demo.runner` runs the demo (``run_demo``).
"""
