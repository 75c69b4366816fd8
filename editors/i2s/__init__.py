"""The Image2StyleGAN++ applications: crossover, inpainting, scribbles, style and attribute transfer."""
