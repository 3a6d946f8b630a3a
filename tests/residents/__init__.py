"""Tests of handlers/residents/, one file per flow or group of flows."""
