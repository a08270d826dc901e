"""MobileNetV2 regressor for the 4 rim corners (issue 4)."""
