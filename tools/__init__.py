"""Project tooling run from the Makefile (never imported by portal)."""
