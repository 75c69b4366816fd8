"""The model manager (which generator, on which device) and its status-bar widget."""
