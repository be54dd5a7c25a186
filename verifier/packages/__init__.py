"""Packages: everything about the packages a build environment adds to its base archive.

- ``interface.py``: what a lockfile promises (``LockedEnvironment``) and the
  ``PackageManager`` Protocol;
- ``lockfile/``: lockfile formats (verifier JSON, Debian .buildinfo, mock's buildroot lock),
  each read into a ``LockedEnvironment``;
- ``apt.py``, ``rpm.py``: the package managers; ``deb.py``: a .deb's control fields;
- ``repository.py``: the package-manager registry; fetching every locked package (pins and
  identity checked) and laying out the offline repository the sandbox installs from;
- ``step.py``: the pipeline step tying a release's lockfile in;
- ``installed.py``: the installed-package manifest and its comparison with the lockfile;
- ``lock.py``: ``verifier lock``, the online resolution that writes a lockfile.

Kept free of imports so that importing one module of the family loads only that module.
"""
