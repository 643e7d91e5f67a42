"""krackwatch.crypto"""
