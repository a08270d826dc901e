"""MobileNetV2 regressor for the 4 rim corners of the box opening."""
