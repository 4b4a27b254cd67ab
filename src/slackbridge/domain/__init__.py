"""The vocabulary every layer shares: domain events and payload kinds.

A leaf: it imports nothing else of slackbridge, and every layer may import it.
"""
