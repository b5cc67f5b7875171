"""Caches: locations, bundles, prewarm, explanations, strategies, AOT."""
