"""Tests of handlers/moderators/, one file per flow or group of flows."""
