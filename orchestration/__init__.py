"""Rapport orchestration: Dagster assets, checks, jobs and schedules."""
