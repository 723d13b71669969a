"""Answer generation: prompts, context packing, LLM backends and the extractive answerer."""
