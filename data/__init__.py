"""Dataset code: file formats, the dataset layout, splits and the synthetic box-scene generator.

Knows no model and imports no TensorFlow (see shared/conventions.md, section 7).
"""
