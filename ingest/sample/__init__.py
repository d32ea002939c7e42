"""The bundled offline sample: fixture feeds and article pages plus a local server for them."""
