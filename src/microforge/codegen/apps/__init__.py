"""Example applications generated around compiled models (``microforge compile --app``)."""
