"""Install the repository's folders under one import root, ``latent_atelier``.

Metadata lives in ``pyproject.toml``; this file only maps folders to packages:
``app/`` -> ``latent_atelier.app``, ``editors/`` -> ``latent_atelier.editors``,
``models/`` -> ``latent_atelier.models``, ``resources/`` -> ``latent_atelier.resources``
(package data: icons, samples, the bundled models).
"""

from setuptools import find_packages, setup

ROOT_PACKAGE = "latent_atelier"
FOLDERS = ("app", "editors", "models", "resources")

# ``latent_atelier`` itself is a namespace package (no ``__init__.py``): it only holds the four.
package_dir: dict[str, str] = {}
packages: list[str] = []
for folder in FOLDERS:
    package_dir[f"{ROOT_PACKAGE}.{folder}"] = folder
    packages.append(f"{ROOT_PACKAGE}.{folder}")
    packages += [f"{ROOT_PACKAGE}.{folder}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={f"{ROOT_PACKAGE}.resources": ["**/*"]},
    exclude_package_data={"": ["*.pyc"]},
)
