"""The synthetic box-scene generator: exact ray-cast scenes with depth, corners and fill ground truth."""
