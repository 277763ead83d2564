"""Local runner: starts the same topology as docker-compose from Debian packages.

Used by `make run` (the whole system) and by the test suite (throwaway broker and database).
"""
