"""Build the optional C fast path of ``krackwatch decrypt`` (everything else is in pyproject.toml).

The extension links OpenSSL's libcrypto (Debian: ``libssl-dev``). It is optional: without a compiler or
the headers the build only warns and krackwatch runs its pure-Python path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "krackwatch.decrypt._fastpath",
            sources=["src/krackwatch/decrypt/_fastpath.c"],
            libraries=["crypto"],
            optional=True,
        )
    ]
)
