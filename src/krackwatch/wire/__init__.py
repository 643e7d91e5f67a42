"""krackwatch.wire"""
