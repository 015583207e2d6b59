"""Model loading: one module per kind of model, the only places that load weights (never downloaded)."""
