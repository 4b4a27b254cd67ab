"""admin part of slackbridge."""
