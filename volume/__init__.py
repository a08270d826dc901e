"""Corners + depth -> rectified box -> height map -> fill % and empty litres (issue 6)."""
