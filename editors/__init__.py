"""The algorithms, as Operations. numpy + torch, never Qt."""
