"""slack part of slackbridge."""
