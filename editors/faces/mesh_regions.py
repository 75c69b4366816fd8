"""Named regions of the 478-point face mesh, as landmark index lists and polygons.

The index sets come from the connection lists that ship with the mesh model (read
lazily, so importing this module never needs the ``faces`` extra). "Left" and "right"
are the person's own sides.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

NOSE_TIP = 1
MOUTH_RIGHT = 61  # the person's right mouth corner
MOUTH_LEFT = 291

#: region name -> the connection set's name in the mesh model's package
_CONNECTIONS = {
    "face_oval": "FACEMESH_FACE_OVAL",
    "right_eye": "FACEMESH_RIGHT_EYE",
    "left_eye": "FACEMESH_LEFT_EYE",
    "right_brow": "FACEMESH_RIGHT_EYEBROW",
    "left_brow": "FACEMESH_LEFT_EYEBROW",
    "nose": "FACEMESH_NOSE",
    "lips": "FACEMESH_LIPS",
}


@cache
def region_chains(name: str) -> tuple[tuple[int, ...], ...]:
    """The landmark chains (closed loops or open polylines) outlining a region."""
    from latent_atelier.editors.faces.backend import load_solutions

    edges = getattr(load_solutions().connections, _CONNECTIONS[name])
    return tuple(tuple(c) for c in edges_to_chains(edges))


def region_indices(name: str) -> list[int]:
    """Every landmark index that outlines region ``name``."""
    return sorted({i for chain in region_chains(name) for i in chain})


def edges_to_chains(edges) -> list[list[int]]:
    """Split an undirected edge set into ordered chains: open paths first, then loops."""
    adj: dict[int, list[int]] = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    seen: set[tuple[int, int]] = set()
    chains = []
    starts = sorted(n for n, nb in adj.items() if len(nb) == 1) + sorted(adj)
    for start in starts:
        for nxt in adj[start]:
            if (start, nxt) in seen:
                continue
            chain = [start]
            prev, cur = start, nxt
            seen.update({(start, nxt), (nxt, start)})
            while True:
                chain.append(cur)
                options = [n for n in adj[cur] if (cur, n) not in seen]
                if not options or len(adj[cur]) > 2:
                    break
                prev, cur = cur, options[0]
                seen.update({(prev, cur), (cur, prev)})
            if chain[-1] == chain[0]:
                chain.pop()
            chains.append(chain)
    return chains


def region_polygon(mesh: np.ndarray, name: str) -> np.ndarray:
    """The outline of region ``name`` as a polygon (K x 2) in the mesh's coordinates.

    A closed loop gives its largest loop (the outer lip line, not the inner one); two
    open lines (a brow's upper and lower edge) are joined into one band; anything else
    (the nose's branching lines) gives the convex hull of its points.
    """
    chains = region_chains(name)
    loops = [c for c in chains if len(c) >= 3 and _is_loop(c, name)]
    if name != "nose" and loops:
        return max((mesh[list(c)] for c in loops), key=lambda p: abs(cv2.contourArea(p.astype(np.float32))))
    if name != "nose" and len(chains) == 2:
        a, b = (mesh[list(c)] for c in chains)
        if np.hypot(*(a[-1] - b[0])) > np.hypot(*(a[-1] - b[-1])):
            b = b[::-1]
        return np.concatenate([a, b])
    pts = mesh[region_indices(name)].astype(np.float32)
    return cv2.convexHull(pts)[:, 0, :].astype(np.float64)


def _is_loop(chain: tuple[int, ...], name: str) -> bool:
    edges = {frozenset(e) for e in getattr(_connections(), _CONNECTIONS[name])}
    return frozenset((chain[0], chain[-1])) in edges


def _connections():
    from latent_atelier.editors.faces.backend import load_solutions

    return load_solutions().connections


def eye_rings() -> tuple[list[int], list[int]]:
    """Landmark indices around the person's right and left eyes."""
    return region_indices("right_eye"), region_indices("left_eye")
