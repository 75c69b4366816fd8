"""Dual-Domain Synthesis (Bazazian et al., CVPRW 2022): a part from one generator's domain
inside another's image, found by optimising one latent that both generators share."""
