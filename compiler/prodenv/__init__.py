"""helm-check for HELM's config YAML files (prod_env/): HC06xx."""
