"""The embedded demo: `jde-stripe demo` (the whole pipeline through Dagster on the sandboxes) and
`jde-stripe sandbox` (both sandboxes in the foreground). See README_SECTION.md."""
