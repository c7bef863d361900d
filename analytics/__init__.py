"""Rapport analytics: scoring code the warehouse's dbt Python models and the CLI share."""
