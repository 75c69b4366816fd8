"""Alpha matting: the matte operation, refinement, colour segmentation, compositing, metrics."""
