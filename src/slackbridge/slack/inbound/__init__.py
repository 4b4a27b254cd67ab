"""Slack inbound: the ingress routes, Socket Mode, request checks and the inbox intake."""
