"""Rapport ingestion: dlt sources for the social platforms and file drops, and the demo data."""
