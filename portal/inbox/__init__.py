"""The staff inbox (everything waiting for a staff decision, from every feature) and the
notifications people get on the site and by mail."""
