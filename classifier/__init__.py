"""EfficientNetB0 OK / NOK classifier per use case (issue 5)."""
