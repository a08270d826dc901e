"""The `nie` command line (scripts/nie.py). Nothing imports it."""
