"""Blending several indicator signals into one."""
