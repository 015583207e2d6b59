"""From files to indexed passages: loaders, the sentence splitter and the ingest pipeline."""
