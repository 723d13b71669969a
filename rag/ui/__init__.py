"""The chat web UI (gradio)."""
