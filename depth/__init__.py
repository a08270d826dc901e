"""U-Net depth estimator (issue 3)."""
