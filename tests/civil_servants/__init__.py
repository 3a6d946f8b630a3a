"""Tests of handlers/civil_servants/, one file per flow or group of flows."""
