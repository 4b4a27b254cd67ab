"""bridge part of slackbridge."""
