"""Adapters that let other frameworks use the assistant (llama-index); nothing below `rag.assistant` imports them."""
