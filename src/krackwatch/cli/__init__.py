"""krackwatch.cli"""
