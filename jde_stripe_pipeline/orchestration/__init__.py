"""The Dagster layer: resources, partitions, assets, checks, schedule, sensor. Thin."""
