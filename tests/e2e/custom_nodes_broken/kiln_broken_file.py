"""A single-file pack that raises while it is imported."""

raise RuntimeError("kiln_broken_file refuses to import")
