"""Networks and weights: generators, checkpoints, perceptual features. Knows nothing of editors or app."""
