"""The verifiable record (可验证的账本): see "The verifiable record" in docs/ARCHITECTURE.md."""
