"""Assets by layer: raw (dlt) and the dbt project (staging, intermediate, marts, seeds)."""
