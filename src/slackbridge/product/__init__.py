"""product part of slackbridge."""
