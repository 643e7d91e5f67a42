"""DESIGN.md layering: lab sits on protocol, wire and crypto; it never imports detect, decrypt or the
layers above it, and nothing in it prints."""

from __future__ import annotations

import ast
from pathlib import Path

import krackwatch.lab

FORBIDDEN = ("krackwatch.detect", "krackwatch.decrypt", "krackwatch.advisories", "krackwatch.fleet",
             "krackwatch.report", "krackwatch.cli")


def test_lab_imports_only_lower_layers():
    root = Path(krackwatch.lab.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(FORBIDDEN), (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(FORBIDDEN), (path.name, alias.name)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "exit"), path.name
