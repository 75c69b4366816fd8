"""How far the ``matte`` operation trusts the generator's alpha: from how well it fits the photo.

A generator only knows its own domain. When its inversion explains the placed crop well, its
alpha is a good guess; when it cannot redraw the photo (a real photo and the bundled cartoon
portrait model), its alpha is noise and the person prior must lead. The rule:

    fit   = min(ramp(psnr,  PSNR_OUT,  PSNR_IN),  1 - ramp(lpips, LPIPS_IN, LPIPS_OUT))
    agree = ramp(IoU(generator >= 0.5, person >= 0.5 in the crop), AGREE_LOW, AGREE_HIGH)
    sure  = ramp(person confidence, UNSURE_PERSON, SURE_PERSON)
    trust = max(fit * (1 - AGREE_WEIGHT + AGREE_WEIGHT * agree), 1 - sure)
                                                                  (no person found: trust = 1)

The last term is the person prior's own reliability: its segmentation, made for real
photographs, answers drawn portraits with a haze of middling probabilities (``confidence``,
:func:`~latent_atelier.editors.matting.priors.decisiveness`: 0.96-0.97 on the real reference
photos, 0.24-0.97 on the synthetic portraits, mostly below 0.85). An unsure person prior cannot
lead, however poorly the generator fits: the generator's domain is the one where the person
prior is lost. From :data:`GENERATOR_LEADS` on, the generator's own trimap rule is used
(see :mod:`latent_atelier.editors.matting.sources`).

``psnr`` and ``lpips`` compare what the embedding's W+ rows draw (with the noise maps it
started from: the noise-map phase can redraw almost any photo, 32 dB on real portraits with
the cartoon demo model) with the crop inside the subject (the person prior's, else the
generator's own alpha), so a well drawn background does not count.
``ramp(x, a, b)`` is 0 below ``a``, 1 above ``b`` and linear between. A trust below
:data:`OUT_OF_DOMAIN` is reported as "out of its domain". The thresholds were set between
the fits the bundled model reaches on real photos and on its own held-out portraits
(``benchmarks/results/matting_real_real.json`` and ``matting_real_synthetic.json``: ``fit_psnr``,
``fit_lpips``, ``trust``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: masked PSNR (dB) at or below which the fit counts as failed, and at or above which as good
PSNR_OUT, PSNR_IN = 17.0, 21.0
#: masked LPIPS at or below which the fit counts as good, and at or above which as failed
LPIPS_IN, LPIPS_OUT = 0.20, 0.35
#: IoU of the generator's subject with the person's, from no agreement to full agreement
AGREE_LOW, AGREE_HIGH = 0.5, 0.85
#: how much disagreement with the person prior can take away from a good fit
AGREE_WEIGHT = 0.5
#: below this trust the generator is called out of its domain (a note says so)
OUT_OF_DOMAIN = 0.5
#: person confidence from which the person prior is unsure, to sure (set on 64 training-split
#: portraits over photographs, not the benchmark's held-out ones: leading with the generator
#: below about 0.8-0.85 beat the generator's and the person's rule on every error there)
UNSURE_PERSON, SURE_PERSON = 0.75, 0.90
#: from this trust on the generator leads: its own trimap rule inside its crop
GENERATOR_LEADS = 0.5


def ramp(x: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between."""
    return float(np.clip((x - low) / (high - low), 0.0, 1.0))


@dataclass(frozen=True)
class Fit:
    """How well the generator explains the crop, and whether it agrees with the person."""

    psnr: float
    lpips: float
    agreement: float | None = None  # IoU with the person prior, None without one
    person_confidence: float = 1.0  # the person prior's decisiveness (1: sure of itself)

    def trust(self) -> float:
        """The generator's weight in the fused prior, in [0, 1] (see the module rule)."""
        fit = min(ramp(self.psnr, PSNR_OUT, PSNR_IN), 1.0 - ramp(self.lpips, LPIPS_IN, LPIPS_OUT))
        if self.agreement is None:
            return fit
        agree = ramp(self.agreement, AGREE_LOW, AGREE_HIGH)
        unsure_person = 1.0 - ramp(self.person_confidence, UNSURE_PERSON, SURE_PERSON)
        return max(fit * (1.0 - AGREE_WEIGHT + AGREE_WEIGHT * agree), unsure_person)

    def note(self) -> str:
        """What a user reads when the generator is judged out of its domain ('' otherwise)."""
        if self.trust() >= OUT_OF_DOMAIN:
            return ""
        agree = "" if self.agreement is None else f", IoU {self.agreement:.2f} with the person"
        return (
            f"the model does not explain this photo (fit {self.psnr:.1f} dB, LPIPS "
            f"{self.lpips:.2f}{agree}): it is out of its domain, so the person prior leads; "
            "a FurryGAN checkpoint trained on real portraits would let the generator lead"
        )


def agreement(generator_alpha: np.ndarray, person: np.ndarray) -> float:
    """IoU of the two subjects (each at 0.5); 1 when both are empty."""
    g, p = np.asarray(generator_alpha) >= 0.5, np.asarray(person) >= 0.5
    union = int((g | p).sum())
    return 1.0 if union == 0 else float((g & p).sum()) / union


def crop_fit(reconstruction: np.ndarray, crop: np.ndarray, subject: np.ndarray | None) -> tuple[float, float]:
    """(masked PSNR in dB, masked LPIPS) of the generator's ``reconstruction`` vs ``crop``
    (both S x S x 3 in [0, 1]).

    ``subject`` (S x S in [0, 1]) weighs the pixels; outside it both images are set to grey
    for LPIPS, so only the subject's look is compared.
    """
    import torch

    from latent_atelier.editors.inversion.embed_core import (
        from_numpy_image,
        from_numpy_mask,
        masked_psnr,
    )
    from latent_atelier.models.perceptual import get_lpips

    x = from_numpy_image(np.asarray(crop, np.float32))
    img = from_numpy_image(np.clip(np.asarray(reconstruction, np.float32), 0.0, 1.0))
    m = None if subject is None else from_numpy_mask(np.asarray(subject, np.float32))
    if m is not None and float(m.sum()) < 1.0:
        m = None
    with torch.no_grad():
        psnr = float(masked_psnr(img, x, m).mean())
        if m is not None:
            img, x = img * m, x * m  # grey (0 in [-1, 1]) outside the subject
        lp = float(get_lpips("cpu")(img, x).mean())
    return psnr, lp
