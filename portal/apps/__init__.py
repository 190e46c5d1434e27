"""The sub-applications portal mounts, one package each."""
