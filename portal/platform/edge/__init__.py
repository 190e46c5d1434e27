"""The HTTP edge: what every request meets before a view and every response after it.

Host and proxy checks, body limits, CSRF, time limits, security and cache
headers, error pages and the security-event log.
"""
