"""The steps of one run, each small enough to read alone: gather, settle, push."""
