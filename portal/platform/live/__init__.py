"""Live pages: cross-process events over LISTEN/NOTIFY, and the WebSockets they feed."""
