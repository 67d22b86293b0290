"""Helpers shared by the tests and the benchmarks: upload builders and a live gunicorn server.

Not part of the app: the Docker image does not copy it.
"""
