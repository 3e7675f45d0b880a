"""Revisions of pycrm's schema, oldest first."""
