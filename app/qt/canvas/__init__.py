"""The painting canvas: view transform, cached composite, tools and the widget."""
