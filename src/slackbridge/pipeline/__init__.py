"""pipeline part of slackbridge."""
