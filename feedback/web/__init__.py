"""Blueprints, one per audience: survey (customers), api, auth, admin."""
