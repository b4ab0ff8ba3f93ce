"""The media library: pictures staff upload once (checked, re-encoded, in responsive sizes),
with alt text in both languages and a credit, picked for articles and events."""
