"""The pure core: value types, the reconcile planner and its guard rails (stdlib only)."""
