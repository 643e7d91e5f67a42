"""krackwatch: find, prove and fix KRACK (WPA2 key reinstallation) exposure."""

__version__ = "0.1.0"
