"""The task interface: one record per task (record.py), the registry that lists them (registry.py) and
loading a trained model file (model_files.py). record.py and model_files.py sit at the bottom of the layers
(task packages import them); registry.py sits above the task packages and imports them only when asked."""
