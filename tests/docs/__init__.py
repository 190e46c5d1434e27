"""Tests that the documents under ``docs/`` are true of the code."""
