"""Shared training machinery (run directories, callbacks, distribution strategy); knows no task.

Filled by the task issues (depth, keypoints, classifier) as they need it.
"""
