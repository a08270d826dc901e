"""The learned fill model: the box opening rectified by the rim homography, plus pose numbers, -> fill (issue 12)."""
