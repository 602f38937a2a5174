"""What HELM knows (run spec functions, expanders, models), how it is built from HELM's source, and prices."""
