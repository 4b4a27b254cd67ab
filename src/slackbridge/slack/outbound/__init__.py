"""Slack outbound: the outbox sender, every Web API call, rate limits and outcomes."""
