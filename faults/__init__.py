"""The fault suite: the real site under load while its database and workers fail."""

__all__: list[str] = []
