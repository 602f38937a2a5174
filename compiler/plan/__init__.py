"""The Plan (plain data), the planner that builds it, HELM's run names."""
