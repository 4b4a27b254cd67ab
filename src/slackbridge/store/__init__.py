"""store part of slackbridge."""
