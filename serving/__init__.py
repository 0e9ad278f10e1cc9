"""TF Serving configuration, clients and the development server (issue 6; this package is a placeholder
for them and holds no code yet)."""
