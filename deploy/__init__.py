"""Deployment: trained models exported as SavedModel, ONNX and LiteRT, and an onnxruntime model for `nie fill`."""
