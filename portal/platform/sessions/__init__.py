"""The cookie session every app shares, and the one-time messages it carries."""
