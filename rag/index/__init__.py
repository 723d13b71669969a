"""Paper -> searchable index: chunking, embedding, Chroma, BM25 and the manifest."""
