"""krackwatch.decrypt"""
