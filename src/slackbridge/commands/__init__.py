"""commands part of slackbridge."""
